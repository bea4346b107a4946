using Plastic.Compute.Cpu.Gemm;

namespace Plastic.Compute.Cpu;

/// <summary>
/// The SIMD CPU backend: blocked GEMM on the widest vectors the CPU has, convolutions as implicit
/// im2col GEMMs, TensorPrimitives for element-wise work. Deterministic for a given thread count.
/// </summary>
public sealed partial class CpuBackend : ComputeBackend
{
    /// <summary>Environment variable that sets the thread count when none is given.</summary>
    public const string ThreadsVariable = "PLASTIC_THREADS";
    /// <summary>Environment variable that caps the SIMD width (512, 256 or 128).</summary>
    public const string SimdVariable = "PLASTIC_SIMD";

    private readonly CpuParallel _parallel;
    private readonly GemmEngine _gemm;
    private readonly DotGemmEngine _dotGemm;

    public CpuBackend(int? threads = null, int? simdWidthBits = null)
    {
        _parallel = new CpuParallel(threads ?? ReadEnvironmentInt(ThreadsVariable) ?? Environment.ProcessorCount);
        _gemm = new GemmEngine(MicroKernel.Select(simdWidthBits ?? ReadEnvironmentInt(SimdVariable)));
        _dotGemm = new DotGemmEngine(DotMicroKernel.Matching(_gemm.Kernel));
    }

    public override string Name => "cpu";
    public int Threads => _parallel.Threads;
    public string KernelName => _gemm.Kernel.Name;
    public override string DeviceDescription => $"{Environment.ProcessorCount} logical cores, {Threads} threads, GEMM micro-kernel {KernelName}";

    private static int? ReadEnvironmentInt(string name)
    {
        string? text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text)) return null;
        return int.TryParse(text, out int value) && value > 0
            ? value
            : throw new ArgumentException($"Environment variable {name}='{text}' must be a positive integer.");
    }

    protected override Tensor AllocateCore(Shape shape) => new CpuTensor(shape, this);
    protected override IndexTensor AllocateIndicesCore(Shape shape) => new CpuIndexTensor(shape, this);
    protected override void UploadCore(ReadOnlySpan<float> source, Tensor destination) => source.CopyTo(T(destination).Span);
    protected override void UploadCore(ReadOnlySpan<int> source, IndexTensor destination) => source.CopyTo(I(destination).Span);
    protected override void DownloadCore(Tensor source, Span<float> destination) => T(source).Span.CopyTo(destination);
    protected override void DownloadCore(IndexTensor source, Span<int> destination) => I(source).Span.CopyTo(destination);
    public override void Synchronize() { }

    private static CpuTensor T(Tensor t) => (CpuTensor)t;
    private static CpuIndexTensor I(IndexTensor t) => (CpuIndexTensor)t;

    public override void Dispose() { }
}
