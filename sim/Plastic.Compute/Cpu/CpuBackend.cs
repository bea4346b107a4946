using Plastic.Compute.Cpu.Gemm;
using Plastic.Compute.Cpu.Winograd;

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
    /// <summary>Environment variable that picks the convolution algorithm (auto, im2col or winograd).</summary>
    public const string ConvolutionVariable = "PLASTIC_CONV";

    private readonly CpuParallel _parallel;
    private readonly GemmEngine _gemm;
    private readonly DotGemmEngine _dotGemm;
    private readonly WinogradConvolution _winograd;

    public CpuBackend(int? threads = null, int? simdWidthBits = null, ConvolutionAlgorithm? convolution = null)
    {
        _parallel = new CpuParallel(threads ?? ReadEnvironmentInt(ThreadsVariable) ?? Environment.ProcessorCount);
        _gemm = new GemmEngine(MicroKernel.Select(simdWidthBits ?? ReadEnvironmentInt(SimdVariable)));
        _dotGemm = new DotGemmEngine(DotMicroKernel.Matching(_gemm.Kernel));
        _winograd = new WinogradConvolution(_gemm, _dotGemm.Kernel, _parallel, wide: _gemm.Kernel == MicroKernel.Avx512);
        Convolution = convolution ?? ReadConvolutionAlgorithm();
    }

    public override string Name => "cpu";
    public int Threads => _parallel.Threads;
    public string KernelName => _gemm.Kernel.Name;
    public ConvolutionAlgorithm Convolution { get; }
    public override string DeviceDescription =>
        $"{Environment.ProcessorCount} logical cores, {Threads} threads, GEMM micro-kernel {KernelName}, 3x3 convolutions {Convolution.ToString().ToLowerInvariant()}";

    /// <summary>Reads the environment variables the backend obeys, so that a bad value is refused before a run starts.</summary>
    public static void CheckEnvironment()
    {
        ReadEnvironmentInt(ThreadsVariable);
        ReadEnvironmentInt(SimdVariable);
        ReadConvolutionAlgorithm();
    }

    private static ConvolutionAlgorithm ReadConvolutionAlgorithm()
    {
        string? text = Environment.GetEnvironmentVariable(ConvolutionVariable);
        if (string.IsNullOrWhiteSpace(text)) return ConvolutionAlgorithm.Auto;
        return Enum.TryParse(text, ignoreCase: true, out ConvolutionAlgorithm value) && Enum.IsDefined(value) && !int.TryParse(text, out _)
            ? value
            : throw new ArgumentException($"Environment variable {ConvolutionVariable}='{text}' must be one of: auto, im2col, winograd.");
    }

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
    protected override Tensor? AdoptCore(float[] hostArray, Shape shape) => CpuTensor.OverLent(hostArray, shape, this);
    protected override void UploadCore(ReadOnlySpan<float> source, Tensor destination) => CopyFloats(source, T(destination).Span);
    protected override void UploadCore(ReadOnlySpan<int> source, IndexTensor destination) => source.CopyTo(I(destination).Span);
    protected override void DownloadCore(Tensor source, Span<float> destination) => CopyFloats(T(source).Span, destination);
    protected override void DownloadCore(IndexTensor source, Span<int> destination) => I(source).Span.CopyTo(destination);
    public override void Synchronize() { }
    // Tensors are pinned managed arrays: a disposed one is garbage until a full collection.
    public override bool FreesOnDispose => false;

    private static CpuTensor T(Tensor t) => (CpuTensor)t;
    private static CpuIndexTensor I(IndexTensor t) => (CpuIndexTensor)t;

    public override void Dispose() { }
}
