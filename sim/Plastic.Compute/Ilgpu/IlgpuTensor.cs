using ILGPU;
using ILGPU.Runtime;

namespace Plastic.Compute.Ilgpu;

/// <summary>A tensor in accelerator memory. A reshaped view shares its source's buffer and does not free it.</summary>
internal sealed class IlgpuTensor : Tensor
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? _owned;
    private int _released;

    public IlgpuTensor(Shape shape, IlgpuBackend backend, MemoryBuffer1D<float, Stride1D.Dense> buffer) : base(shape, backend)
    {
        _owned = buffer;
        Elements = buffer.View;
    }

    private IlgpuTensor(Shape shape, IlgpuBackend backend, ArrayView1D<float, Stride1D.Dense> elements) : base(shape, backend) => Elements = elements;

    public ArrayView1D<float, Stride1D.Dense> Elements { get; }

    protected override Tensor View(int offset, Shape shape) =>
        new IlgpuTensor(shape, (IlgpuBackend)Backend, Elements.SubView(offset, shape.Length));

    // Given back to the device's pool under its gate: a tensor may be released on another layer's thread (a
    // payload's device copy is freed by its receiver). Once only: a buffer returned twice would be lent to two tensors.
    protected override void Release()
    {
        if (_owned is { } buffer && Interlocked.Exchange(ref _released, 1) == 0) ((IlgpuBackend)Backend).Free(buffer);
    }
}

internal sealed class IlgpuIndexTensor(Shape shape, IlgpuBackend backend, MemoryBuffer1D<int, Stride1D.Dense> buffer) : IndexTensor(shape, backend)
{
    private int _released;
    public ArrayView1D<int, Stride1D.Dense> View => buffer.View;

    protected override void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) ((IlgpuBackend)Backend).Free(buffer);
    }
}
