using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Tests.Support;

namespace Plastic.Tests.Compute;

/// <summary>
/// The CPU backend's average pooling sums each window from 0, row by row and left to right, then scales by
/// 1 / K^2, whichever path (vector rows, scalar rows, the general loop) takes the shape: the same floats as
/// that order computed one value at a time, bit for bit, so a change of path never changes a run.
/// </summary>
public sealed class CpuAveragePoolingTests
{
    [Theory]
    [InlineData(3, 32, 32, 4)]   // 1/8-width VGG-6 block 1's loss pooling: 8 windows a row
    [InlineData(2, 16, 16, 4)]   // blocks 2 and 3: 4 windows a row
    [InlineData(2, 32, 32, 2)]
    [InlineData(2, 16, 16, 2)]
    [InlineData(2, 8, 8, 2)]
    [InlineData(2, 12, 12, 3)]
    [InlineData(2, 7, 9, 2)]     // windows that do not tile the plane: the general loop
    public void Each_window_is_summed_in_row_order_bit_for_bit(int planes, int h, int w, int k)
    {
        var backend = new CpuBackend(threads: 2);
        int ho = h / k, wo = w / k;
        var x = TestData.Normal(planes * h * w, 21);
        using var tx = backend.Upload(x, new Shape(1, planes, h, w));
        using var ty = backend.Allocate(new Shape(1, planes, ho, wo));
        backend.AvgPool2dForward(tx, ty, new PoolGeometry(k));

        var expected = Reference.AvgPool(x, planes, h, w, k, k, inFloat: true);
        Tolerance.AssertBitIdentical(expected, ty.ToArray(), $"AvgPool2dForward {h}x{w}, K {k}");
    }

    [Theory]
    [InlineData(16, 2)]   // rows written once, then copied
    [InlineData(7, 2)]    // windows that do not tile the plane: adds onto a cleared plane
    public void A_negative_zero_gradient_reaches_the_input_as_positive_zero(int size, int k)
    {
        // The general pass adds each share onto a cleared plane (0 + -0 = +0); every path must give those bits.
        var backend = new CpuBackend(threads: 1);
        int outSize = size / k;
        var dy = new float[outSize * outSize];
        Array.Fill(dy, -0f);
        dy[0] = -1e-45f;   // times 1/K^2 it underflows to -0
        using var tdy = backend.Upload(dy, new Shape(1, 1, outSize, outSize));
        using var tdx = backend.Allocate(new Shape(1, 1, size, size));
        backend.AvgPool2dBackward(tdy, tdx, new PoolGeometry(k));
        Assert.All(tdx.ToArray(), v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v)));
    }
}
