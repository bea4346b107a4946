using System.Runtime.Intrinsics.X86;
using Plastic.Compute;
using Plastic.Compute.Cpu.Winograd;

namespace Plastic.Tests.Compute;

/// <summary>
/// The vector paths of Winograd's transforms move and add the same numbers in the same order as the paths they
/// replace: the narrow tile transforms (16 tiles across several tile rows) equal the row-by-row ones, and the kernel
/// transforms of 16 kernels at once equal one kernel at a time, bit for bit, every value written and none besides.
/// </summary>
public sealed unsafe class WinogradTransformTests
{
    private static float[] Random(int count, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(r.NextDouble() * 4 - 2)).ToArray();
    }

    private static float[] NaNs(int count) => Enumerable.Repeat(float.NaN, count).ToArray();

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}[{i}] = {actual[i]}, the row-by-row path gives {expected[i]}");
    }

    /// <summary>
    /// Output rows of 16, 8 and 4 pixels (groups of 2, 4 and 8 tile rows), with and without a border, from tile row 1
    /// so that groups start inside an image and end past a batch whose last tile rows fill no group.
    /// </summary>
    public static TheoryData<int, int, int, int, int> Shapes() => new()
    {
        // n, channels in, size, channels out, pad
        { 2, 3, 16, 5, 1 },
        { 3, 2, 8, 3, 1 },
        { 3, 4, 4, 2, 1 },
        { 2, 3, 10, 2, 0 },
        { 2, 2, 6, 3, 2 },
    };

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void The_narrow_input_transform_equals_the_row_by_row_one(int n, int cin, int size, int cout, int pad)
    {
        Skip.IfNot(Avx512F.IsSupported, "this CPU has no AVX-512");
        var (d, t) = Dims(n, cin, size, cout, pad);
        int g0 = 1, g1 = t.Count, ld = (g1 - g0) * t.TilesW + 3;
        var x = Random(n * cin * size * size, 1);
        var bordered = Bordered(x, d);
        float[] expected = NaNs(16 * cin * ld), actual = NaNs(16 * cin * ld), scratch = new float[TileTransforms.ScratchFloats(t)];
        fixed (float* px = x, pb = bordered, pe = expected, pa = actual, ps = scratch)
        {
            TileTransforms.Input(px, t, g0, g1, pe, ld, wide: true, ps);
            NarrowTileTransforms.Input(pb, px, t, g0, g1, pa, ld, ps);
        }
        AssertSameBits(expected, actual, "V");
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void The_narrow_output_transform_equals_the_row_by_row_one(int n, int cin, int size, int cout, int pad)
    {
        Skip.IfNot(Avx512F.IsSupported, "this CPU has no AVX-512");
        var (d, t) = Dims(n, cin, size, cout, pad);
        int g0 = 1, g1 = t.Count, ld = (g1 - g0) * t.TilesW + 3;
        var m = Random(16 * cout * ld, 2);
        var bias = Random(cout, 3);
        float[] expected = NaNs(n * cout * d.Ho * d.Wo), actual = NaNs(n * cout * d.Ho * d.Wo);
        fixed (float* pm = m, pbias = bias, pe = expected, pa = actual)
        {
            TileTransforms.Output(pm, ld, t, g0, g1, pbias, pe, wide: true);
            NarrowTileTransforms.Output(pm, ld, t, g0, g1, pbias, pa);
        }
        AssertSameBits(expected, actual, "y");
        Assert.Contains(actual, float.IsNaN);   // tile row 0 was not asked for and is left as it was
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void The_narrow_gradient_transform_equals_the_row_by_row_one(int n, int cin, int size, int cout, int pad)
    {
        Skip.IfNot(Avx512F.IsSupported, "this CPU has no AVX-512");
        var (d, t) = Dims(n, cin, size, cout, pad);
        int g0 = 1, g1 = t.Count, ld = (g1 - g0) * t.TilesW + 3;
        var dy = Random(n * cout * d.Ho * d.Wo, 4);
        float[] expected = NaNs(16 * cout * ld), actual = NaNs(16 * cout * ld), scratch = new float[TileTransforms.ScratchFloats(t)];
        fixed (float* pdy = dy, pe = expected, pa = actual, ps = scratch)
        {
            TileTransforms.Gradient(pdy, t, g0, g1, pe, ld, wide: true, ps);
            NarrowTileTransforms.Gradient(pdy, t, g0, g1, pa, ld, ps);
        }
        AssertSameBits(expected, actual, "Mg");
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sixteen_kernels_at_once_transform_as_one_at_a_time(bool flipped)
    {
        Skip.IfNot(Avx512F.IsSupported, "this CPU has no AVX-512");
        const long stride = 19;
        var kernels = Random(16 * 9, 5);
        var taps = new float[9 * 16];
        for (int lane = 0; lane < 16; lane++)
            for (int tap = 0; tap < 9; tap++) taps[16 * tap + lane] = flipped ? kernels[9 * lane + 8 - tap] : kernels[9 * lane + tap];
        float[] expected = NaNs(16 * (int)stride), actual = NaNs(16 * (int)stride);
        fixed (float* pk = kernels, pt = taps, pe = expected, pa = actual)
        {
            for (int lane = 0; lane < 16; lane++) WinogradF2x3.TransformKernel(pk + 9 * lane, flipped, pe + lane, stride);
            WinogradF2x3.TransformKernels16(pt, pa, stride);
        }
        AssertSameBits(expected, actual, "U");
    }

    [SkippableFact]
    public void Sixteen_kernel_gradients_at_once_transform_as_one_at_a_time()
    {
        Skip.IfNot(Avx512F.IsSupported, "this CPU has no AVX-512");
        const long stride = 21;
        var du = Random(16 * (int)stride, 6);
        var expected = new float[16 * 9];
        var lanes = new float[9 * 16];
        fixed (float* pdu = du, pe = expected, pl = lanes)
        {
            for (int lane = 0; lane < 16; lane++) WinogradF2x3.TransformKernelGradient(pdu + lane, stride, pe + 9 * lane, accumulate: false);
            WinogradF2x3.TransformKernelGradients16(pdu, stride, pl);
        }
        var actual = new float[16 * 9];
        for (int lane = 0; lane < 16; lane++)
            for (int tap = 0; tap < 9; tap++) actual[9 * lane + tap] = lanes[16 * tap + lane];
        AssertSameBits(expected, actual, "dW");
    }

    private static (ConvDims D, TileRows T) Dims(int n, int cin, int size, int cout, int pad)
    {
        int o = size + 2 * pad - 2;
        var d = new ConvDims(n, cin, size, size, cout, o, o, 3, 1, pad);
        Assert.True(NarrowTileTransforms.Applies(d, wide: true), $"{size} pixels with padding {pad} is not a narrow case");
        return (d, new TileRows(d));
    }

    /// <summary>The batch with its zero border written out, as the convolution hands it to the narrow input transform.</summary>
    private static float[] Bordered(float[] x, ConvDims d)
    {
        int h = d.H + 2 * d.Pad, w = d.W + 2 * d.Pad;
        var b = new float[d.N * d.Cin * h * w];
        for (int plane = 0; plane < d.N * d.Cin; plane++)
            for (int r = 0; r < d.H; r++)
                Array.Copy(x, (plane * d.H + r) * d.W, b, (plane * h + r + d.Pad) * w + d.Pad, d.W);
        return b;
    }
}
