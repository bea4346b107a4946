using Plastic.Compute.Cpu.Gemm;

namespace Plastic.Tests.Compute;

/// <summary>
/// Packing a GEMM operand only moves values: every packed value must be the element the micro-kernel
/// expects at that place, whichever path (registers or one value at a time) packed it.
/// </summary>
public sealed unsafe class PanelPackingTests
{
    private static float[] Numbered(int count) => Enumerable.Range(0, count).Select(i => i * 0.5f - 7f).ToArray();

    [SkippableTheory]
    [InlineData(16, 16, 1f)]
    [InlineData(37, 53, 1f)]
    [InlineData(21, 16, -0.5f)]
    public void A_16x16_block_transpose_puts_each_value_at_its_mirror_place(int srcStride, int dstStride, float scale)
    {
        Skip.IfNot(BlockTranspose.IsSupported, "this CPU has no AVX-512");
        var src = Numbered(16 * srcStride);
        var dst = new float[16 * dstStride];
        fixed (float* s = src, d = dst) BlockTranspose.Transpose16(s, srcStride, d, dstStride, scale);
        for (int k = 0; k < 16; k++)
            for (int i = 0; i < 16; i++)
                Assert.True(dst[k * dstStride + i] == src[i * srcStride + k] * scale, $"dst[{k}][{i}] = {dst[k * dstStride + i]}, expected src[{i}][{k}] * {scale}");
        for (int k = 0; k < 16; k++)
            for (int i = 16; i < dstStride; i++)
                Assert.True(dst[k * dstStride + i] == 0f, $"dst[{k}][{i}] lies outside the block and was written");
    }

    /// <summary>
    /// A transposed B ([cols x k] in memory) packed NR wide: full panels and an edge panel of 40 columns (two
    /// blocks of 16 and 8 single columns), K blocks that start past 0 and end between multiples of 16.
    /// </summary>
    [Theory]
    [InlineData(0, 48, 0, 37, 1f)]
    [InlineData(48, 40, 5, 32, 1f)]
    [InlineData(16, 48, 17, 50, 2f)]
    public void A_transposed_B_packs_each_value_at_its_panel_place(int col0, int cols, int k0, int kc, float scale)
    {
        const int nr = 48, k = 80, n = 96;
        var b = Numbered(n * k);   // B^T stored row-major: op(B)[kk, j] = b[j * k + kk]
        var packed = new float[nr * kc];
        Array.Fill(packed, float.NaN);
        fixed (float* pb = b, dst = packed)
            StridedMatrix.RowMajor(pb, n, k, transpose: true, scale).PackB(dst, nr, k0, kc, col0, cols);
        AssertPanel(packed, nr, b, k, col0, cols, k0, kc, scale);
    }

    /// <summary>A row-major A packed 8 rows at a time: whole panels (K blocks that start past 0, end between multiples of 16) and an edge of 5 rows.</summary>
    [Theory]
    [InlineData(0, 8, 0, 37, 1f)]
    [InlineData(8, 8, 5, 32, -2f)]
    [InlineData(16, 5, 3, 20, 1f)]
    public void A_row_major_A_packs_each_value_at_its_panel_place(int row0, int rows, int k0, int kc, float scale)
    {
        const int mr = 8, m = 21, k = 80;
        var a = Numbered(m * k);
        var packed = new float[mr * kc];
        Array.Fill(packed, float.NaN);
        fixed (float* pa = a, dst = packed)
            StridedMatrix.RowMajor(pa, m, k, transpose: false, scale).PackA(dst, mr, row0, rows, k0, kc);
        AssertPanel(packed, mr, a, k, row0, rows, k0, kc, scale);
    }

    /// <summary>
    /// packed[kk][i] (a panel <paramref name="width"/> wide) holds source line first + i at k0 + kk, times scale, for the
    /// <paramref name="count"/> lines packed (each line contiguous along K, <paramref name="k"/> long), and 0 past them.
    /// </summary>
    private static void AssertPanel(float[] packed, int width, float[] source, int k, int first, int count, int k0, int kc, float scale)
    {
        for (int kk = 0; kk < kc; kk++)
            for (int i = 0; i < width; i++)
            {
                float expected = i < count ? source[(first + i) * k + k0 + kk] * scale : 0f;
                Assert.True(packed[kk * width + i] == expected, $"packed[{kk}][{i}] = {packed[kk * width + i]}, expected {expected}");
            }
    }

    [SkippableFact]
    public void An_8x16_block_transpose_interleaves_eight_rows_per_k()
    {
        Skip.IfNot(BlockTranspose.IsSupported, "this CPU has no AVX-512");
        const int stride = 19;
        var src = Numbered(8 * stride);
        var dst = new float[128];
        fixed (float* s = src, d = dst) BlockTranspose.Transpose8x16(s, stride, d, 1f);
        for (int kk = 0; kk < 16; kk++)
            for (int r = 0; r < 8; r++)
                Assert.True(dst[kk * 8 + r] == src[r * stride + kk], $"dst[{kk}][{r}] = {dst[kk * 8 + r]}, expected src[{r}][{kk}]");
    }
}
