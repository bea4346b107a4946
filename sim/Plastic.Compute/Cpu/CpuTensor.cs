using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Plastic.Compute.Cpu;

/// <summary>A tensor in pinned managed memory, so kernels may hold raw pointers into it without fixing.</summary>
internal sealed class CpuTensor : Tensor
{
    private readonly float[] _data;
    private readonly int _offset;
    private readonly bool _lent; // the array came from HostArrays: disposal gives it back

    public CpuTensor(Shape shape, CpuBackend backend)
        : this(shape, backend, GC.AllocateArray<float>(shape.Length, pinned: true), 0) { }

    private CpuTensor(Shape shape, CpuBackend backend, float[] data, int offset, bool lent = false) : base(shape, backend)
    {
        _data = data;
        _offset = offset;
        _lent = lent;
    }

    /// <summary>A tensor over a pinned array from <see cref="HostArrays"/>, given back when the tensor is disposed.</summary>
    public static CpuTensor OverLent(float[] pinned, Shape shape, CpuBackend backend) => new(shape, backend, pinned, 0, lent: true);

    public Span<float> Span => _data.AsSpan(_offset, Length);

    public unsafe float* Pointer => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data)) + _offset;

    protected override Tensor View(int offset, Shape shape) => new CpuTensor(shape, (CpuBackend)Backend, _data, _offset + offset);

    // The array belongs to the GC; a view and its source share it, so neither frees it. A lent array goes back to
    // its pool with the tensor that took it (never with a view: a view does not own the storage).
    protected override void Release()
    {
        if (_lent) HostArrays.Return(_data);
    }
}

internal sealed class CpuIndexTensor(Shape shape, CpuBackend backend) : IndexTensor(shape, backend)
{
    private readonly int[] _data = GC.AllocateArray<int>(shape.Length, pinned: true);

    public Span<int> Span => _data.AsSpan();

    protected override void Release() { }
}
