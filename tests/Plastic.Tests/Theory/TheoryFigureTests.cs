using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Sim.Theory;

namespace Plastic.Tests.Theory;

/// <summary>
/// The theory figures (PAPER.md 2.7) on synthetic two-view data, 4 batches each: the claims hold for
/// any data, and CI has no MNIST. `plastic theory fig2|fig3a|fig4b --data ...` runs them on MNIST.
/// </summary>
[Trait(TestCategories.Category, TestCategories.Slow)]
public sealed class TheoryFigureTests
{
    private const int Batches = 4;

    private static IReadOnlyList<TheoryCurveResult> Run(TheoryFigure figure)
    {
        int samples = figure.Data == "mnist-patches" ? 64 : 32;
        var data = new SyntheticBatches(figure.Input, samples, 3);
        using var backend = new CpuBackend(threads: 2);
        return figure.Curves.Select(c => TheoryRunner.Run(c, figure.Lambda, data, Batches, 2, backend)).ToList();
    }

    [Fact]
    public void Figure2_all_assumptions_give_backprop_exactly_and_each_broken_one_falls_below_and_rises_to_the_top()
    {
        var results = Run(TheoryFigures.Figure2(TheoryFigures.DefaultLambda)).ToDictionary(r => r.Curve.Name);
        foreach (var layer in results["all assumptions"].Layers)
        {
            Assert.True(layer.Cosine >= 0.99999, $"{layer.Layer}: cosine {layer.Cosine}");
            Assert.InRange(layer.NormRatio, 1 - 1e-4, 1 + 1e-4);
            Assert.True(layer.WorstBGradientNorm < 1e-9, $"{layer.Layer}: B solved to |grad| {layer.WorstBGradientNorm:G3}");
        }
        foreach (var name in new[] { "non-orthogonal W", "ReLU", "non-orthogonal W, ReLU" })
        {
            var layers = results[name].Layers;
            var cosines = layers.Select(l => l.Cosine).ToList();
            Assert.All(cosines.SkipLast(1), c => Assert.InRange(c, -1, 0.99));
            // Rising towards the top: no layer significantly above the next (their 95% intervals overlap or it is lower).
            for (int l = 0; l < layers.Count - 2; l++)
                Assert.True(cosines[l] <= cosines[l + 1] + layers[l].Interval95 + layers[l + 1].Interval95,
                    $"{name}: layer {l + 1} cosine {cosines[l]:F4} is above layer {l + 2}'s {cosines[l + 1]:F4} beyond their intervals");
            Assert.True(cosines[^2] > cosines[0], $"{name}: no rise from layer 1 ({cosines[0]:F4}) to layer {cosines.Count - 1} ({cosines[^2]:F4})");
            Assert.Equal(1.0, cosines[^1], 1e-6);
        }
        var random = results["random fixed B"].Layers;
        Assert.All(random.SkipLast(1), l => Assert.InRange(l.Cosine, -0.1, 0.1));
        Assert.Equal(1.0, random[^1].Cosine, 1e-6);
    }

    [Fact]
    public void Figure3a_direct_feedback_is_nearer_backprop_and_with_linear_f_backprop_is_its_projection()
    {
        var results = Run(TheoryFigures.Figure3a(TheoryFigures.DefaultLambda)).ToDictionary(r => r.Curve.Name);
        foreach (var f in new[] { "linear f", "softplus f" })
        {
            var lateral = results[$"{f}, lateral"].Layers;
            var feedback = results[$"{f}, DFB"].Layers;
            for (int l = 0; l < lateral.Count - 1; l++)
                Assert.True(feedback[l].Cosine > lateral[l].Cosine, $"{f} layer {l + 1}: DFB cosine {feedback[l].Cosine:F4}, lateral {lateral[l].Cosine:F4}");
        }
        // Frobenius distance: direct feedback nearer at every layer below the top with linear f. (With
        // softplus f the lateral updates are so small that their distance is about |dW_bp| and this
        // measure does not order them; see the README.)
        var linLateral = results["linear f, lateral"].Layers;
        var linFeedback = results["linear f, DFB"].Layers;
        for (int l = 0; l < linLateral.Count - 1; l++)
            Assert.True(linFeedback[l].FrobeniusDistance < linLateral[l].FrobeniusDistance, $"linear f layer {l + 1}");

        // grad_BP = P^T P grad_DFB, P = W_top ... W_{l+1} (PAPER.md 2.4), on the last batch.
        var dfb = results["linear f, DFB"];
        var widths = dfb.Curve.Spec.Layers.Select(x => x.Width).ToList();
        for (int l = 0; l < widths.Count - 1; l++)
        {
            int rows = widths[l], inputs = dfb.LastGradients[l].Local.Length / rows;
            // P [d_top x rows] as a product of the weights above l (each [out x in]).
            double[,] p = Identity(rows);
            for (int k = l + 1; k < widths.Count; k++) p = Multiply(Matrix(dfb.Weights[k], widths[k], widths[k - 1]), p);
            var ptp = Multiply(Transpose(p), p);
            var projected = Multiply(ptp, Matrix(dfb.LastGradients[l].Local, rows, inputs));
            var backprop = dfb.LastGradients[l].Backprop;
            double scale = Math.Sqrt(backprop.Sum(v => (double)v * v) / backprop.Length);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < inputs; j++)
                    Assert.True(Math.Abs(projected[i, j] - backprop[i * inputs + j]) <= 1e-6 * (Math.Abs(backprop[i * inputs + j]) + scale),
                        $"layer {l + 1} [{i},{j}]: P^T P grad_DFB {projected[i, j]:G6}, grad_BP {backprop[i * inputs + j]:G6}");
        }
    }

    [Fact]
    public void Figure4b_k_equal_1_on_orthogonal_conv_layers_is_exact_and_global_pooling_is_not()
    {
        var results = Run(TheoryFigures.Figure4b(TheoryFigures.DefaultLambda)).ToDictionary(r => r.Curve.Name);
        Assert.All(results["square: 2D spatial dependence, k = 1"].Layers, l => Assert.True(l.Cosine >= 0.99999, $"{l.Layer}: {l.Cosine}"));
        Assert.All(results["square: no 2D spatial dependence (global pools)"].Layers.SkipLast(1), l => Assert.InRange(l.Cosine, -1, 0.95));
        // The paper's 32-channel net narrows 4x per layer: spatial dependence is nearer backprop than global pooling, not equal to it.
        var spatial = results["32 ch: 2D spatial dependence (pools 2,1,1,1)"].Layers;
        var global = results["32 ch: no 2D spatial dependence (global pools 8,4,2,1)"].Layers;
        for (int l = 0; l < spatial.Count - 1; l++) Assert.True(spatial[l].Cosine > global[l].Cosine, $"layer {l + 1}");
    }

    private static double[,] Identity(int n) { var m = new double[n, n]; for (int i = 0; i < n; i++) m[i, i] = 1; return m; }
    private static double[,] Matrix(float[] values, int rows, int columns)
    {
        var m = new double[rows, columns];
        for (int i = 0; i < rows; i++) for (int j = 0; j < columns; j++) m[i, j] = values[i * columns + j];
        return m;
    }
    private static double[,] Transpose(double[,] a)
    {
        var t = new double[a.GetLength(1), a.GetLength(0)];
        for (int i = 0; i < a.GetLength(0); i++) for (int j = 0; j < a.GetLength(1); j++) t[j, i] = a[i, j];
        return t;
    }
    private static double[,] Multiply(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), k = a.GetLength(1), m = b.GetLength(1);
        var c = new double[n, m];
        for (int i = 0; i < n; i++) for (int p = 0; p < k; p++) { double v = a[i, p]; if (v == 0) continue; for (int j = 0; j < m; j++) c[i, j] += v * b[p, j]; }
        return c;
    }
}
