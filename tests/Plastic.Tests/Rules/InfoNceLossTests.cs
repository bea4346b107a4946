using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Rules;

/// <summary>BP-InfoNCE: its value against a hand-written formula, its gradients against finite differences, and its behaviour in a backprop run.</summary>
public sealed class InfoNceLossTests
{
    private readonly CpuBackend _b = new(threads: 1);
    private const int N = 3;

    [Fact]
    public void The_loss_is_the_mean_cross_entropy_of_the_view_1_rows_over_cosines_to_view_2()
    {
        // Two samples, 2-d projections; q normalised by hand.
        float[] p = [3, 4, 1, 0, 0, 2, 1, 1];
        var (loss, _) = InfoNceLoss.LossAndGradient(p, 2, 2, 0.5);
        double Cos(double[] a, double[] b) => (a[0] * b[0] + a[1] * b[1]) / Math.Sqrt((a[0] * a[0] + a[1] * a[1]) * (b[0] * b[0] + b[1] * b[1]));
        double[] a0 = [3, 4], a1 = [1, 0], b0 = [0, 2], b1 = [1, 1];
        double Row(double[] a, double[] pos, double[] neg) => -Cos(a, pos) / 0.5 + Math.Log(Math.Exp(Cos(a, pos) / 0.5) + Math.Exp(Cos(a, neg) / 0.5));
        Assert.Equal((Row(a0, b0, b1) + Row(a1, b1, b0)) / 2, loss, 1e-12);
    }

    [Theory]
    [InlineData("conv-pooled")]
    [InlineData("linear")]
    [InlineData("conv-global")]
    public void Output_and_projection_gradients_match_finite_differences(string kind)
    {
        Shape shape = kind == "linear" ? new Shape(2 * N, 5) : new Shape(2 * N, 3, 4, 4);
        int features = kind switch { "linear" => 5, "conv-pooled" => 3 * 2 * 2, _ => 3 };
        using var loss = new InfoNceLoss(_b, features, kind == "conv-pooled" ? 2 : null, new RandomStream(7, 1), new AdamWSettings(0f),
            projection: 4, temperature: 0.1, globalPool: kind == "conv-global");
        var x0 = TestData.Normal(shape.Length, 8);
        using var output = _b.Upload(x0, shape);
        int[] unused = [1, 2, 0];
        double Loss(float[] x) { _b.Upload(x, output); return loss.Compute(output, N, unused, out _, 0); }

        double value = loss.Compute(output, N, unused, out var grad, 0);
        Assert.True(value > 0);
        var analytic = grad.ToArray();
        Assert.Contains(analytic.Take(shape.Length / 2), v => v != 0);
        Assert.Contains(analytic.Skip(shape.Length / 2), v => v != 0);   // both views get a gradient
        FiniteDifference.Check(x0, Loss, analytic, $"{kind} dL/d(output)", step: 1e-3, probes: 40);

        var w0 = loss.Projection.ToArray();
        loss.Compute(output, N, unused, out _, 0);
        var dw = loss.LastProjectionGradient.ToArray();
        _b.Upload(x0, output);
        FiniteDifference.Check(w0, w => { _b.Upload(w, loss.Projection); double l = loss.Compute(output, N, unused, out _, 0); _b.Upload(w0, loss.Projection); return l; },
            dw, $"{kind} dL/dW", step: 1e-3);
    }

    [Fact]
    public async Task A_backprop_run_with_bp_infonce_lowers_its_loss_and_a_local_run_refuses_it()
    {
        var spec = Presets.Mlp(24, [16, 16, 12], "bp-infonce");
        var result = await Simulation.RunAsync(spec, new RunOptions(300, BatchSize: 16, Seed: 4, Graph: GraphKind.Backprop) { Optimizer = new(3e-3f) },
            () => new CpuBackend(threads: 1));
        var losses = result.Losses["loss"];
        double first = losses.Take(50).Average(), last = losses.Skip(250).Average();
        Assert.True(last < 0.8 * first, $"bp-infonce: mean loss {first:F4} over the first 50 steps, {last:F4} over the last 50");

        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            Simulation.RunAsync(spec, new RunOptions(1, BatchSize: 4), () => new CpuBackend(threads: 1)));
        Assert.Contains("backprop baseline", e.Message);
    }
}
