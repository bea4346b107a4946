using ILGPU;
using ILGPU.Runtime;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// The ILGPU backend: weights and activations live in accelerator memory and every operation is a
/// kernel. Each backend keeps its own tensor tally, but every backend on one device shares that device's
/// context, accelerator, loaded kernels and gate (<see cref="IlgpuDevice"/>): calls are serialised, since
/// ILGPU accelerators are not thread safe.
/// </summary>
public sealed partial class IlgpuBackend : ComputeBackend
{
    private readonly IlgpuDevice _device;
    private int _released;

    private readonly bool _convolutionsAsGemm;

    private IlgpuBackend(string name, IlgpuDevice device, bool convolutionsAsGemm)
    {
        Name = name;
        _device = device;
        _convolutionsAsGemm = convolutionsAsGemm;
    }

    private Accelerator Accelerator => _device.Accelerator;
    private IlgpuKernelSet Kernels => _device.Kernels;

    /// <summary>A backend on the first device of kind cuda, opencl or ilgpu-cpu, opened (and its kernels loaded) once per process.</summary>
    public static IlgpuBackend Create(string name) => Create(name, convolutionsAsGemm: null);

    /// <param name="convolutionsAsGemm">
    /// Convolutions as im2col and a GEMM (see IlgpuBackend.ConvGemm.cs) rather than the direct kernels; null:
    /// where the device's GEMM is cuBLAS (CUDA, unless PLASTIC_CUBLAS=0). The tests turn it on for the ILGPU CPU accelerator.
    /// </param>
    internal static IlgpuBackend Create(string name, bool? convolutionsAsGemm)
    {
        var device = IlgpuDevice.Lease(name);
        return new(name, device, convolutionsAsGemm ?? device.CudaGemm is not null);
    }

    /// <summary>The device this backend runs on: the same object for every backend of one device kind in a process.</summary>
    internal IlgpuDevice Device => _device;

    public override long? DevicePoolPeakBytes
    {
        get { lock (_device.Gate) return _device.Pool.PeakBytes; }
    }

    public override string Name { get; }
    // A disposed tensor's accelerator buffer goes back at once to the device's pool, where the next tensor of its length takes it.
    public override bool FreesOnDispose => true;
    public override string DeviceDescription =>
        $"ILGPU {Accelerator.AcceleratorType}: {Accelerator.Name}{(_device.CudaGemm is null ? "" : ", GEMM through cuBLAS")}";

    private T Run<T>(Func<T> body)
    {
        lock (_device.Gate)
        {
            Accelerator.Bind();
            return body();
        }
    }

    private void Run(Action body)
    {
        lock (_device.Gate)
        {
            Accelerator.Bind();
            body();
        }
    }

    /// <summary>Gives a tensor's buffer back to the device's pool, whichever thread releases the tensor.</summary>
    internal void Free<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer) where T : unmanaged
    {
        lock (_device.Gate)
        {
            // A tensor outliving its device: the accelerator freed every buffer when it closed.
            if (_device.IsOpen) _device.Pool.Return(buffer);
            else buffer.Dispose();
        }
    }

    private static IlgpuTensor T(Tensor t) => (IlgpuTensor)t;
    private static IlgpuIndexTensor I(IndexTensor t) => (IlgpuIndexTensor)t;
    private static ArrayView<float> V(Tensor t) => ((IlgpuTensor)t).Elements;

    protected override Tensor AllocateCore(Shape shape) => Run(() =>
    {
        var buffer = _device.Pool.Rent<float>(shape.Length);
        buffer.MemSetToZero();
        return (Tensor)new IlgpuTensor(shape, this, buffer);
    });

    protected override IndexTensor AllocateIndicesCore(Shape shape) => Run(() =>
    {
        var buffer = _device.Pool.Rent<int>(shape.Length);
        buffer.MemSetToZero();
        return (IndexTensor)new IlgpuIndexTensor(shape, this, buffer);
    });

    protected override void UploadCore(ReadOnlySpan<float> source, Tensor destination)
    {
        var copy = source.ToArray();
        Run(() => T(destination).Elements.CopyFromCPU(copy));
    }

    protected override void UploadCore(ReadOnlySpan<int> source, IndexTensor destination)
    {
        var copy = source.ToArray();
        Run(() => I(destination).View.CopyFromCPU(copy));
    }

    protected override void DownloadCore(Tensor source, Span<float> destination)
    {
        var host = new float[source.Length];
        Run(() => T(source).Elements.CopyToCPU(host));
        host.CopyTo(destination);
    }

    protected override void DownloadCore(IndexTensor source, Span<int> destination)
    {
        var host = new int[source.Length];
        Run(() => I(source).View.CopyToCPU(host));
        host.CopyTo(destination);
    }

    public override void Synchronize() => Run(() => Accelerator.Synchronize());

    /// <summary>Gives this backend's lease on the device back (once); the last backend on a device closes it.</summary>
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) _device.Release();
    }
}
