using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Topology;

namespace Plastic.Tests.Theory;

/// <summary>
/// PAPER.md 2.3 and 7.1-7.4, reproduced with the simulator's own layers, rules and meter: in a deep
/// linear network whose weights above layer 1 are square and orthogonal, with every B at the optimum
/// of its L2-regularised loss (same lambda, same samples), the local update of every layer equals the
/// backprop update. The loss has 2N anchors (PAPER.md 3.1): anchor r scores z_pos[r] = z[(r + N) mod 2N] and
/// z_neg[r] = z[negatives[r]] against c[r]. With linear f the optimum has a closed form:
/// B* = (1 / (lambda 2N)) sum_r (z_pos[r] - z_neg[r]) c_r^T.
/// </summary>
public sealed class Theorem31Tests
{
    private const int Inputs = 20, Width = 16, Depth = 4, N = 32;
    private const double Lambda = 0.1;

    private static AlignmentMeter Meter(out TrainingBatch batch, bool orthogonal = true, bool directFeedback = false, string f = "linear")
    {
        var spec = Presets.DeepLinear(Inputs, Width, Depth, (directFeedback ? "clapp++dfb/" : "clapp++/") + f);
        if (directFeedback)
            spec = spec with { Feedback = spec.Layers.Take(Depth - 1).Select(l => new EdgeSpec(spec.Layers[^1].Name, l.Name)).ToList() };
        var meter = new AlignmentMeter(spec, new CpuBackend(threads: 2), seed: 6);
        if (orthogonal)
            for (int l = 1; l < Depth; l++) meter.SetWeights(l, Orthogonal(Width, seed: 100 + l));
        batch = new SyntheticBatches(spec.Input, N, 6).Batch(0);
        return meter;
    }

    [Fact]
    public void With_orthogonal_weights_and_optimal_B_every_layer_updates_exactly_as_backprop()
    {
        using var meter = Meter(out var batch);
        var features = meter.Features(batch);
        for (int l = 0; l < Depth; l++) meter.SetB(l, OptimalB(Stack(features[l]), Stack(features[l]), batch.Negatives.ToArray()));
        foreach (var layer in meter.Measure(batch))
        {
            Assert.Equal(1.0, layer.Cosine, 1e-4);
            Assert.Equal(1.0, layer.NormRatio, 1e-3);
        }
    }

    [Fact]
    public void With_softplus_f_and_B_optimised_to_convergence_the_same_holds()
    {
        // PAPER.md 7.1 with the theory's softplus ("logsig") f: no closed form, so each B is found by
        // gradient descent on its strictly convex regularised loss, in double precision.
        using var meter = Meter(out var batch, f: "softplus");
        var features = meter.Features(batch);
        for (int l = 0; l < Depth; l++)
        {
            var (b, gradientNorm) = SoftplusOptimalB(Stack(features[l]), Stack(features[l]), batch.Negatives.ToArray());
            // Converged: the identity B_l* = P_l^T B_L* P_l is about optima, not about where descent stopped.
            Assert.True(gradientNorm < 1e-9, $"layer {l}: gradient norm {gradientNorm:G3} after descent");
            meter.SetB(l, b);
        }
        foreach (var layer in meter.Measure(batch))
        {
            Assert.Equal(1.0, layer.Cosine, 1e-4);
            Assert.Equal(1.0, layer.NormRatio, 1e-3);
        }
    }

    /// <summary>argmin_B mean_r [softplus(1 - u_pos,r) + softplus(1 + u_neg,r)] + lambda/2 |B|^2 over the 2N anchors, by gradient descent.</summary>
    private static (float[] B, double GradientNorm) SoftplusOptimalB(float[] z, float[] c, int[] negatives)
    {
        static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
        var b = new double[Width * Width];
        var grad = new double[b.Length];
        double gradientNorm = double.PositiveInfinity;
        for (int iteration = 0; iteration < 20_000; iteration++)
        {
            for (int k = 0; k < b.Length; k++) grad[k] = Lambda * b[k];
            for (int i = 0; i < 2 * N; i++)
            {
                int p = (i + N) % (2 * N), q = negatives[i];
                double positive = 0, negative = 0;
                for (int r = 0; r < Width; r++)
                    for (int s = 0; s < Width; s++)
                    {
                        positive += z[p * Width + r] * b[r * Width + s] * c[i * Width + s];
                        negative += z[q * Width + r] * b[r * Width + s] * c[i * Width + s];
                    }
                // d softplus(1 - u)/du = -sigmoid(1 - u); d softplus(1 + u)/du = sigmoid(1 + u).
                double gPositive = -Sigmoid(1 - positive) / (2 * N), gNegative = Sigmoid(1 + negative) / (2 * N);
                for (int r = 0; r < Width; r++)
                    for (int s = 0; s < Width; s++)
                        grad[r * Width + s] += (gPositive * z[p * Width + r] + gNegative * z[q * Width + r]) * c[i * Width + s];
            }
            double norm = 0;
            for (int k = 0; k < b.Length; k++) { b[k] -= 0.5 * grad[k]; norm += grad[k] * grad[k]; }
            gradientNorm = Math.Sqrt(norm);
            if (gradientNorm < 1e-12) break;
        }
        return (b.Select(v => (float)v).ToArray(), gradientNorm);
    }

    /// <summary>A layer's features of both views as the loss stacks them: view 1 rows, then view 2.</summary>
    private static float[] Stack((float[] View1, float[] View2) features) => [.. features.View1, .. features.View2];

    [Fact]
    public void With_direct_feedback_the_same_holds()
    {
        // PAPER.md 2.3: with equal widths the DFB optimum is B_l* = P_l^T B_L*, and the updates coincide.
        using var meter = Meter(out var batch, directFeedback: true);
        var features = meter.Features(batch);
        // Every layer's reference is the top layer's features of the same row: the top-down reference
        // below, and the top's own lateral reference at the top.
        var reference = Stack(features[^1]);
        for (int l = 0; l < Depth; l++) meter.SetB(l, OptimalB(Stack(features[l]), reference, batch.Negatives.ToArray()));
        foreach (var layer in meter.Measure(batch))
            Assert.Equal(1.0, layer.Cosine, 1e-4);
    }

    [Fact]
    public void Without_orthogonal_weights_optimal_B_aligns_less_and_less_further_down()
    {
        // PAPER.md 7.3: breaking orthogonality gives cosines below 1, rising towards the top layer.
        using var meter = Meter(out var batch, orthogonal: false);
        var features = meter.Features(batch);
        for (int l = 0; l < Depth; l++) meter.SetB(l, OptimalB(Stack(features[l]), Stack(features[l]), batch.Negatives.ToArray()));
        var cosines = meter.Measure(batch).Select(a => a.Cosine).ToList();
        Assert.All(cosines.Take(Depth - 1), c => Assert.InRange(c, 0.0, 0.99));
        Assert.Equal(cosines.Order(), cosines);
        Assert.Equal(1.0, cosines[^1], 1e-6);
    }

    [Fact]
    public void With_B_left_random_the_lower_layers_do_not_align()
    {
        // PAPER.md 7.4: random fixed B with orthogonal W gives cosines near 0 below the top.
        using var meter = Meter(out var batch);
        var alignment = meter.Measure(batch);
        Assert.All(alignment.Take(Depth - 1), a => Assert.InRange(a.Cosine, -0.5, 0.5));
        Assert.Equal(1.0, alignment[^1].Cosine, 1e-6);
    }

    /// <summary>B* = (1 / (lambda 2N)) sum_r (z[(r + N) mod 2N] - z[negatives[r]]) c_r^T, row-major [D, D].</summary>
    private static float[] OptimalB(float[] z, float[] c, int[] negatives)
    {
        var b = new double[Width * Width];
        for (int i = 0; i < 2 * N; i++)
            for (int r = 0; r < Width; r++)
            {
                double dz = z[(i + N) % (2 * N) * Width + r] - z[negatives[i] * Width + r];
                for (int s = 0; s < Width; s++) b[r * Width + s] += dz * c[i * Width + s];
            }
        return b.Select(v => (float)(v / (Lambda * 2 * N))).ToArray();
    }

    /// <summary>A random orthogonal matrix: Gram-Schmidt on Gaussian rows, in double precision.</summary>
    private static float[] Orthogonal(int n, int seed)
    {
        var rng = new Random(seed);
        var q = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) q[i, j] = rng.NextDouble() * 2 - 1;
            for (int k = 0; k < i; k++)
            {
                double dot = 0;
                for (int j = 0; j < n; j++) dot += q[i, j] * q[k, j];
                for (int j = 0; j < n; j++) q[i, j] -= dot * q[k, j];
            }
            double norm = Math.Sqrt(Enumerable.Range(0, n).Sum(j => q[i, j] * q[i, j]));
            for (int j = 0; j < n; j++) q[i, j] /= norm;
        }
        return Enumerable.Range(0, n * n).Select(x => (float)q[x / n, x % n]).ToArray();
    }
}
