using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Compute.Cpu.Gemm;
using Plastic.Tests.Support;

namespace Plastic.Tests.Compute;

/// <summary>
/// A convolution with 16-pixel output rows read in place (no packed im2col panels), forward or weight gradient,
/// must give what the packed GEMM gives, bit for bit: the same K blocks, the same per-element sums, only B read
/// from elsewhere.
/// </summary>
public sealed unsafe class IndirectConvolutionTests
{
    [SkippableTheory]
    [InlineData(3, 8, 16)]    // 768 pixels: 16 whole panels
    [InlineData(1, 16, 24)]   // 256 pixels: 5 panels and 16 columns packed as usual
    [InlineData(2, 48, 8)]    // K = 432: two K blocks of 216
    public void Reading_B_in_place_gives_the_packed_products_bit_for_bit(int n, int cin, int cout)
    {
        Skip.IfNot(MicroKernel.Select(null) == MicroKernel.Avx512, "this CPU has no AVX-512 kernel");
        // A bordered 18x18 batch read with padding 0: 16x16 outputs.
        var d = new ConvDims(n, cin, 18, 18, cout, 16, 16, 3, 1, 0);
        Assert.True(IndirectConvolution.Applies(MicroKernel.Avx512, d));
        var x = TestData.Normal(n * d.InputImage, 31);
        var w = TestData.Normal(cout * d.Patch, 32);
        int columns = n * d.Pixels;
        var bias = TestData.Normal(cout * columns, 33);
        var packed = (float[])bias.Clone();
        var inPlace = (float[])bias.Clone();
        var engine = new GemmEngine(MicroKernel.Avx512);
        var parallel = new CpuParallel(2);
        fixed (float* px = x, pw = w, pPacked = packed, pInPlace = inPlace)
        {
            var weights = new StridedMatrix(pw, d.Patch, 1);
            engine.MultiplyParallel(parallel, cout, columns, d.Patch, weights, new ImagePatches(px, d), pPacked, columns);
            IndirectConvolution.Multiply(engine, parallel, weights, px, pInPlace, d);
        }
        Tolerance.AssertBitIdentical(packed, inPlace, $"{n}x{cin}x18x18 -> {cout}");
    }

    [SkippableTheory]
    [InlineData(3, 8, 16)]    // K = 768 pixels in one block
    [InlineData(5, 16, 24)]   // K = 1,280: two blocks of 640
    public void A_weight_gradient_reading_patches_in_place_gives_the_packed_sums_bit_for_bit(int n, int cin, int cout)
    {
        Skip.IfNot(MicroKernel.Select(null) == MicroKernel.Avx512, "this CPU has no AVX-512 kernel");
        var d = new ConvDims(n, cin, 18, 18, cout, 16, 16, 3, 1, 0);
        var engine = new DotGemmEngine(DotMicroKernel.Matching(MicroKernel.Avx512));
        Assert.True(IndirectWeightGradient.Applies(engine, d));
        var x = TestData.Normal(n * d.InputImage, 34);
        var dy = TestData.Normal(n * d.OutputImage, 35);
        var start = TestData.Normal(cout * d.Patch, 36);   // accumulates onto what is there
        var packed = (float[])start.Clone();
        var inPlace = (float[])start.Clone();
        var parallel = new CpuParallel(2);
        fixed (float* px = x, pdy = dy, pPacked = packed, pInPlace = inPlace)
        {
            engine.MultiplyParallel(parallel, cout, d.Patch, n * d.Pixels, new ChannelRows(pdy, cout, d.Pixels), new PatchRows(px, d),
                pPacked, d.Patch, splitColumns: true);
            IndirectWeightGradient.Multiply(engine, parallel, pdy, px, pInPlace, d);
        }
        Tolerance.AssertBitIdentical(packed, inPlace, $"dW of {n}x{cin}x18x18 -> {cout}");
    }
}
