using System.Numerics.Tensors;
using Plastic.Compute.Cpu.Gemm;

namespace Plastic.Compute.Cpu;

public sealed partial class CpuBackend
{
    protected override unsafe void GemmCore(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, float alpha, float beta, int m, int n, int k)
    {
        var cSpan = T(c).Span;
        if (beta == 0f) cSpan.Clear();
        else if (beta != 1f) TensorPrimitives.Multiply(cSpan, beta, cSpan);
        if (alpha == 0f) return;

        var aSource = StridedMatrix.RowMajor(T(a).Pointer, a.Shape[0], a.Shape[1], transposeA, alpha);
        var bSource = StridedMatrix.RowMajor(T(b).Pointer, b.Shape[0], b.Shape[1], transposeB);
        _gemm.MultiplyParallel(_parallel, m, n, k, aSource, bSource, T(c).Pointer, n);
    }
}
