using System.Runtime.Intrinsics;

namespace Plastic.Compute.Cpu.Gemm;

/// <summary>Copies an MR-row block of A into the micro-kernel's layout: for each k, MR values (zero past the edge).</summary>
internal unsafe interface IPanelSourceA
{
    void PackA(float* dst, int mr, int row0, int rows, int k0, int kc);
}

/// <summary>Copies an NR-column block of B into the micro-kernel's layout: for each k, NR values (zero past the edge).</summary>
internal unsafe interface IPanelSourceB
{
    void PackB(float* dst, int nr, int k0, int kc, int col0, int cols);
}

/// <summary>
/// A matrix in memory addressed by element (i, j) at p[i * RowStride + j * ColumnStride]; a transpose
/// is the same memory with the strides swapped. Scale multiplies every packed value (GEMM's alpha).
/// </summary>
internal readonly unsafe struct StridedMatrix(float* p, int rowStride, int columnStride, float scale = 1f) : IPanelSourceA, IPanelSourceB
{
    public static StridedMatrix RowMajor(float* p, int rows, int columns, bool transpose, float scale = 1f) =>
        transpose ? new(p, 1, columns, scale) : new(p, columns, 1, scale);

    public void PackA(float* dst, int mr, int row0, int rows, int k0, int kc)
    {
        if (rows < mr) new Span<float>(dst, mr * kc).Clear();
        if (rowStride == 1)
        {
            // Transposed A: the MR values of one k are contiguous in memory.
            for (int k = 0; k < kc; k++)
            {
                float* src = p + row0 + (long)(k0 + k) * columnStride;
                for (int r = 0; r < rows; r++) dst[k * mr + r] = src[r] * scale;
            }
            return;
        }
        int first = 0;
        if (columnStride == 1 && rows == 8 && mr == 8 && BlockTranspose.IsSupported)
        {
            // Rows contiguous along K, 8 at a time: 16 values of k per register transpose.
            float* src = p + (long)row0 * rowStride + k0;
            for (; first + 16 <= kc; first += 16) BlockTranspose.Transpose8x16(src + first, rowStride, dst + first * 8, scale);
        }
        int rest = kc - first;
        for (int r = 0; r < rows; r++)
        {
            float* src = p + (long)(row0 + r) * rowStride + (long)(k0 + first) * columnStride;
            float* d = dst + first * mr + r;
            if (columnStride == 1)
                for (int k = 0; k < rest; k++) d[k * mr] = src[k] * scale;
            else
                for (int k = 0; k < rest; k++) d[k * mr] = src[(long)k * columnStride] * scale;
        }
    }

    public void PackB(float* dst, int nr, int k0, int kc, int col0, int cols)
    {
        if (columnStride == 1 && cols == nr && scale == 1f)
        {
            for (int k = 0; k < kc; k++)
                Buffer.MemoryCopy(p + (long)(k0 + k) * rowStride + col0, dst + k * nr, nr * sizeof(float), nr * sizeof(float));
            return;
        }
        if (cols < nr) new Span<float>(dst, nr * kc).Clear();
        if (columnStride == 1)
        {
            for (int k = 0; k < kc; k++)
            {
                float* src = p + (long)(k0 + k) * rowStride + col0;
                for (int j = 0; j < cols; j++) dst[k * nr + j] = src[j] * scale;
            }
            return;
        }
        // Transposed B: each packed row gathers one value from each of NR source rows. Where the source
        // rows are contiguous over k, 16 of them at a time are transposed in registers, 16 k at a time.
        int first = 0;
        if (rowStride == 1 && BlockTranspose.IsSupported)
        {
            for (; first + 16 <= cols; first += 16)
            {
                float* src = p + k0 + (long)(col0 + first) * columnStride;
                int k = 0;
                for (; k + 16 <= kc; k += 16) BlockTranspose.Transpose16(src + k, columnStride, dst + (long)k * nr + first, nr, scale);
                for (; k < kc; k++)
                    for (int j = 0; j < 16; j++) dst[k * nr + first + j] = src[k + (long)j * columnStride] * scale;
            }
        }
        // The rest: walk each source row contiguously (over k), writing with stride NR.
        for (int j = first; j < cols; j++)
        {
            float* src = p + (long)k0 * rowStride + (long)(col0 + j) * columnStride;
            float* d = dst + j;
            for (int k = 0; k < kc; k++) d[k * nr] = src[(long)k * rowStride] * scale;
        }
    }
}

/// <summary>A row-major matrix read as rows contiguous along K (row r at p + r * ld): an operand of <see cref="DotGemmEngine"/>.</summary>
internal readonly unsafe struct MatrixRows(float* p, int ld) : IRowSource
{
    public void PackRows(float* dst, int stride, int row0, int rows, int k0, int kc)
    {
        for (int r = 0; r < rows; r++)
            Buffer.MemoryCopy(p + (long)(row0 + r) * ld + k0, dst + (long)r * stride, (long)kc * sizeof(float), (long)kc * sizeof(float));
    }
}
