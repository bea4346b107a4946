using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Compute.Cpu.Gemm;

namespace Plastic.Tests.Compute;

/// <summary>
/// The batch copied with its zero border written out (PaddedImages), against the border written out here value by value:
/// rows shorter than a vector, a vector and a tail, whole vectors, a wider border, and a batch whose last row ends the
/// array (the vector copy must not read past it).
/// </summary>
public sealed unsafe class PaddedImagesTests
{
    [Theory]
    [InlineData(3, 2, 4, 4, 1)]
    [InlineData(2, 3, 1, 1, 1)]
    [InlineData(2, 2, 5, 15, 1)]
    [InlineData(2, 2, 3, 16, 1)]
    [InlineData(1, 3, 4, 17, 1)]
    [InlineData(2, 1, 6, 37, 1)]
    [InlineData(2, 2, 5, 7, 2)]
    public void The_padded_batch_holds_every_value_inside_a_zero_border(int n, int cin, int h, int w, int pad)
    {
        var d = new ConvDims(n, cin, h, w, 1, h, w, 3, 1, pad);
        var batch = GC.AllocateArray<float>(n * cin * h * w, pinned: true); // exactly the batch: nothing to read past it
        for (int i = 0; i < batch.Length; i++) batch[i] = i + 1;
        int ph = h + 2 * pad, pw = w + 2 * pad;
        foreach (int threads in new[] { 1, 2 })
        {
            fixed (float* source = batch)
            {
                float* padded = PaddedImages.Copy(new CpuParallel(threads), source, d);
                for (int plane = 0; plane < n * cin; plane++)
                    for (int y = 0; y < ph; y++)
                        for (int x = 0; x < pw; x++)
                        {
                            bool inside = y >= pad && y < h + pad && x >= pad && x < w + pad;
                            float expected = inside ? batch[(plane * h + y - pad) * w + x - pad] : 0f;
                            Assert.Equal(expected, padded[((long)plane * ph + y) * pw + x]);
                        }
            }
        }
    }
}
