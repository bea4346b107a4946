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
        nint cPtr = (nint)T(c).Pointer;
        var engine = _gemm;
        // Split C along whichever side has more micro-tiles; each thread packs its own panels.
        if ((n + engine.Kernel.NR - 1) / engine.Kernel.NR >= (m + engine.Kernel.MR - 1) / engine.Kernel.MR)
            _parallel.ForRanges(n, engine.Kernel.NR, (j0, j1) =>
                engine.Multiply(m, j1 - j0, k, aSource, bSource.FromColumn(j0), (float*)cPtr + j0, n));
        else
            _parallel.ForRanges(m, engine.Kernel.MR, (i0, i1) =>
                engine.Multiply(i1 - i0, n, k, aSource.FromRow(i0), bSource, (float*)cPtr + (long)i0 * n, n));
    }
}
