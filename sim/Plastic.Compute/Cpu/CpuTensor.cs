using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Plastic.Compute.Cpu;

/// <summary>A tensor in pinned managed memory, so kernels may hold raw pointers into it without fixing.</summary>
internal sealed class CpuTensor : Tensor
{
    private readonly float[] _data;

    public CpuTensor(Shape shape, CpuBackend backend)
        : this(shape, backend, GC.AllocateArray<float>(shape.Length, pinned: true)) { }

    private CpuTensor(Shape shape, CpuBackend backend, float[] data) : base(shape, backend) => _data = data;

    public Span<float> Span => _data.AsSpan(0, Length);

    public unsafe float* Pointer => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data));

    public override Tensor Reshape(Shape shape)
    {
        if (shape.Length != Length)
            throw new ShapeMismatchException($"Reshape: {Shape} holds {Length} elements, {shape} holds {shape.Length}.");
        return new CpuTensor(shape, (CpuBackend)Backend, _data);
    }

    // The array belongs to the GC; a view and its source share it, so neither frees it.
    protected override void Release() { }
}

internal sealed class CpuIndexTensor(Shape shape, CpuBackend backend) : IndexTensor(shape, backend)
{
    private readonly int[] _data = GC.AllocateArray<int>(shape.Length, pinned: true);

    public Span<int> Span => _data.AsSpan();

    protected override void Release() { }
}
