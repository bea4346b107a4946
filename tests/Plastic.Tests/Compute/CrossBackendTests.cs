using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Compute.Ilgpu;
using Plastic.Tests.Support;

namespace Plastic.Tests.Compute;

/// <summary>
/// The ILGPU kernels (on ILGPU's CPU accelerator) and the SIMD CPU backend, given the same inputs,
/// agree with each other directly, not only each with the reference.
/// </summary>
public sealed class CrossBackendTests(IlgpuCpuFixture ilgpu) : IClassFixture<IlgpuCpuFixture>
{
    private readonly CpuBackend _cpu = new(threads: 2);
    private IComputeBackend Gpu => ilgpu.Backend!;

    private (float[] cpu, float[] gpu) Both(Func<IComputeBackend, Tensor> run)
    {
        using var a = run(_cpu);
        using var b = run(Gpu);
        return (a.ToArray(), b.ToArray());
    }

    [Fact]
    public void Gemm_and_convolutions_agree()
    {
        var a = TestData.Normal(23 * 41, 1); var b = TestData.Normal(41 * 19, 2);
        var (c1, c2) = Both(be =>
        {
            using var ta = be.Upload(a, new Shape(23, 41)); using var tb = be.Upload(b, new Shape(19, 41));
            var c = be.Allocate(new Shape(23, 19));
            be.Gemm(ta, false, tb, true, c, 0.5f);
            return c;
        });
        Tolerance.AssertClose(c1, c2, what: "Gemm cpu vs ilgpu");

        var g = new ConvGeometry(3, 1, 1);
        var x = TestData.Normal(2 * 5 * 9 * 9, 3); var w = TestData.Normal(7 * 5 * 9, 4); var dy = TestData.Normal(2 * 7 * 81, 5);
        foreach (string op in new[] { "forward", "input", "weight" })
        {
            var (r1, r2) = Both(be =>
            {
                using var tx = be.Upload(x, new Shape(2, 5, 9, 9)); using var tw = be.Upload(w, new Shape(7, 5, 3, 3));
                using var tdy = be.Upload(dy, new Shape(2, 7, 9, 9));
                switch (op)
                {
                    case "forward": { var y = be.Allocate(tdy.Shape); be.Conv2dForward(tx, tw, null, y, g); return y; }
                    case "input": { var dx = be.Allocate(tx.Shape); be.Conv2dBackwardInput(tdy, tw, dx, g); return dx; }
                    default: { var dw = be.Allocate(tw.Shape); be.Conv2dBackwardWeight(tx, tdy, dw, null, g); return dw; }
                }
            });
            Tolerance.AssertClose(r1, r2, what: $"Conv2d {op} cpu vs ilgpu");
        }
    }

    [Fact]
    public void Random_draws_are_the_same_on_both_backends()
    {
        var key = new RandomStream(2026, 11);
        var (u1, u2) = Both(be => { var t = be.Allocate(new Shape(5000)); be.FillUniform(t, key, -2f, 2f); return t; });
        Tolerance.AssertBitIdentical(u1, u2, "uniform draws");
        var (n1, n2) = Both(be => { var t = be.Allocate(new Shape(5000)); be.FillNormal(t, key, 0f, 1f); return t; });
        // The same bits go through log, sqrt and cos, whose last digit may differ between device and host math.
        Tolerance.AssertClose(n1, n2, rtol: 1e-5, what: "normal draws");
    }

    [Fact]
    public void Optimiser_and_loss_agree()
    {
        var p = TestData.Normal(333, 6); var grad = TestData.Normal(333, 7);
        var (p1, p2) = Both(be =>
        {
            var tp = be.Upload(p, new Shape(333));
            using var tg = be.Upload(grad, new Shape(333)); using var m = be.Allocate(tp.Shape); using var v = be.Allocate(tp.Shape);
            for (int step = 1; step <= 4; step++) be.AdamWStep(tp, tg, m, v, new AdamWSettings(1e-3f, WeightDecay: 1e-2f), step);
            return tp;
        });
        Tolerance.AssertClose(p1, p2, what: "AdamW cpu vs ilgpu");

        var z = TestData.Normal(6 * 10, 8); var labels = TestData.Labels(6, 10, 9);
        double Loss(IComputeBackend be)
        {
            using var tz = be.Upload(z, new Shape(6, 10)); using var tl = be.UploadIndices(labels, new Shape(6));
            return be.SoftmaxCrossEntropy(tz, tl, null);
        }
        Assert.Equal(Loss(_cpu), Loss(Gpu), 1e-5);
    }
}
