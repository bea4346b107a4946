using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// The ILGPU backend: weights and activations live in accelerator memory and every operation is a
/// kernel loaded once at start. One owner: calls are serialised and bound to the accelerator, since
/// ILGPU accelerators are not thread safe.
/// </summary>
public sealed partial class IlgpuBackend : ComputeBackend
{
    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly IlgpuKernelSet _k;
    private readonly object _gate = new();

    private IlgpuBackend(string name, Context context, Accelerator accelerator)
    {
        Name = name;
        _context = context;
        _accelerator = accelerator;
        _k = new IlgpuKernelSet(accelerator);
    }

    /// <summary>Opens the first device of kind cuda, opencl or ilgpu-cpu and loads every kernel.</summary>
    public static IlgpuBackend Create(string name)
    {
        // The CPU emulator is set up like an NVIDIA device (warps of 32, large groups) so that the
        // explicitly grouped kernels run there with the group sizes they use on a GPU.
        var context = name == "ilgpu-cpu"
            ? Context.Create(b => b.CPU(CPUDeviceKind.Nvidia).EnableAlgorithms())
            : Context.Create(b => b.AllAccelerators().EnableAlgorithms());
        try
        {
            var device = IlgpuDevices.Find(context, name);
            return new IlgpuBackend(name, context, device.CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    public override string Name { get; }
    public override string DeviceDescription => $"ILGPU {_accelerator.AcceleratorType}: {_accelerator.Name}";

    private T Run<T>(Func<T> body)
    {
        lock (_gate)
        {
            _accelerator.Bind();
            return body();
        }
    }

    private void Run(Action body)
    {
        lock (_gate)
        {
            _accelerator.Bind();
            body();
        }
    }

    private static IlgpuTensor T(Tensor t) => (IlgpuTensor)t;
    private static IlgpuIndexTensor I(IndexTensor t) => (IlgpuIndexTensor)t;
    private static ArrayView<float> V(Tensor t) => ((IlgpuTensor)t).Elements;

    protected override Tensor AllocateCore(Shape shape) => Run(() =>
    {
        var buffer = _accelerator.Allocate1D<float>(shape.Length);
        buffer.MemSetToZero();
        return (Tensor)new IlgpuTensor(shape, this, buffer);
    });

    protected override IndexTensor AllocateIndicesCore(Shape shape) => Run(() =>
    {
        var buffer = _accelerator.Allocate1D<int>(shape.Length);
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

    public override void Synchronize() => Run(() => _accelerator.Synchronize());

    public override void Dispose()
    {
        lock (_gate)
        {
            _accelerator.Dispose();
            _context.Dispose();
        }
    }
}
