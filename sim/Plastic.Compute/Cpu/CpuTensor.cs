using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Plastic.Compute.Cpu;

/// <summary>A tensor in pinned managed memory, so kernels may hold raw pointers into it without fixing.</summary>
internal sealed class CpuTensor : Tensor
{
    private readonly float[] _data;
    private readonly int _offset;

    public CpuTensor(Shape shape, CpuBackend backend)
        : this(shape, backend, GC.AllocateArray<float>(shape.Length, pinned: true), 0) { }

    private CpuTensor(Shape shape, CpuBackend backend, float[] data, int offset) : base(shape, backend)
    {
        _data = data;
        _offset = offset;
    }

    public Span<float> Span => _data.AsSpan(_offset, Length);

    public unsafe float* Pointer => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data)) + _offset;

    protected override Tensor View(int offset, Shape shape) => new CpuTensor(shape, (CpuBackend)Backend, _data, _offset + offset);

    // The array belongs to the GC; a view and its source share it, so neither frees it.
    protected override void Release() { }
}

internal sealed class CpuIndexTensor(Shape shape, CpuBackend backend) : IndexTensor(shape, backend)
{
    private readonly int[] _data = GC.AllocateArray<int>(shape.Length, pinned: true);

    public Span<int> Span => _data.AsSpan();

    protected override void Release() { }
}
