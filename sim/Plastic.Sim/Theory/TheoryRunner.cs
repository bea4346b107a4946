using Plastic.Compute;
using Plastic.Topology;

namespace Plastic.Sim.Theory;

/// <summary>One layer's numbers on one batch of a theory curve.</summary>
public sealed record TheoryBatchRow(string Curve, int Batch, string Layer, double Cosine, double NormRatio, double ErrorCosine, double FrobeniusDistance);

/// <summary>A layer's numbers over all batches of a curve: means with 95% intervals, and how well B was solved.</summary>
public sealed record TheoryLayerResult(string Curve, string Layer, int Batches, double Cosine, double Interval95, double NormRatio,
    double ErrorCosine, double ErrorInterval95, double FrobeniusDistance, double WorstBGradientNorm);

/// <summary>What one curve produced: per-layer summaries, per-batch rows, and the last batch's gradients and optimal B (for dumps).</summary>
public sealed record TheoryCurveResult(TheoryCurve Curve, IReadOnlyList<TheoryLayerResult> Layers, IReadOnlyList<TheoryBatchRow> Rows,
    IReadOnlyList<LayerGradients> LastGradients, IReadOnlyList<float[]?> LastB, IReadOnlyList<float[]> Weights);

/// <summary>
/// Runs a theory curve: weights set once ((semi-)orthogonal or the default initialisation), then for
/// each batch every B solved to the optimum of its regularised loss on that batch's features (the
/// top layer's B is also the backprop loss's B), and each layer's local update compared with the
/// backprop update of the top loss by the <see cref="AlignmentMeter"/>.
/// </summary>
public static class TheoryRunner
{
    public static TheoryCurveResult Run(TheoryCurve curve, double lambda, IBatchSource data, int batches, ulong seed, IComputeBackend backend,
        Action<string>? progress = null, IReadOnlyList<float[]>? initialWeights = null)
    {
        var shapes = NetworkValidator.Validate(curve.Spec);
        using var meter = new AlignmentMeter(curve.Spec, backend, seed);
        var weights = new List<float[]>();
        for (int l = 0; l < shapes.Count; l++)
        {
            float[]? w = initialWeights?[l];
            if (w is null && curve.Orthogonal)
            {
                var s = shapes[l];
                int fanIn = (int)(s.Weights / s.Layer.Width);
                w = Orthogonal.Matrix(s.Layer.Width, fanIn, new RandomStream(seed, 5000UL + (ulong)l));
            }
            if (w is not null) meter.SetWeights(l, w);
            weights.Add(w ?? meter.Weights(l));
        }

        var rows = new List<TheoryBatchRow>();
        var worstGradient = new double[shapes.Count];
        IReadOnlyList<LayerGradients> last = [];
        var lastB = new float[]?[shapes.Count];
        for (int b = 0; b < batches; b++)
        {
            var batch = data.Batch(b);
            int n = batch.Views.Dims[0] / 2;
            if (curve.OptimalB)
            {
                var features = meter.Features(batch);
                var negatives = batch.Negatives;
                for (int l = 0; l < shapes.Count; l++)
                {
                    bool fed = curve.DirectFeedback && l < shapes.Count - 1;
                    // The loss's 2N anchors as the solver's rows: anchor r scores its positive
                    // z[(r + N) mod 2N] (the view-swapped features) and its negative z[negatives[r]]
                    // against its own reference c[r].
                    var reference = fed ? features[^1] : features[l];
                    var z = features[l].View2.Concat(features[l].View1).Select(v => (double)v).ToArray();
                    var c = reference.View1.Concat(reference.View2).Select(v => (double)v).ToArray();
                    var swapped = negatives.Select(q => (q + n) % (2 * n)).ToArray();
                    int dz = z.Length / (2 * n), dc = c.Length / (2 * n);
                    var solved = OptimalB.Solve(z, c, 2 * n, dz, dc, swapped, curve.Settings, lambda);
                    worstGradient[l] = Math.Max(worstGradient[l], solved.GradientNorm);
                    meter.SetB(l, solved.B);
                    lastB[l] = solved.B;
                }
            }
            last = meter.Gradients(batch, b);
            for (int l = 0; l < last.Count; l++)
            {
                var g = last[l];
                var a = g.Alignment();
                rows.Add(new TheoryBatchRow(curve.Name, b, g.Layer, a.Cosine, a.NormRatio, a.ErrorCosine, Distance(g.Local, g.Backprop)));
            }
            progress?.Invoke($"{curve.Name}: batch {b + 1}/{batches}");
        }

        var layers = curve.Spec.Layers.Select((layer, l) =>
        {
            var mine = rows.Where(r => r.Layer == layer.Name).ToList();
            var s = LayerAlignmentSummary.Of(mine.Select(r => new LayerAlignment(r.Layer, r.Cosine, r.NormRatio, r.ErrorCosine)))[0];
            return new TheoryLayerResult(curve.Name, layer.Name, s.Measurements, s.Cosine, s.Interval95, s.NormRatio, s.ErrorCosine, s.ErrorInterval95,
                mine.Average(r => r.FrobeniusDistance), curve.OptimalB ? worstGradient[l] : double.NaN);
        }).ToList();
        return new TheoryCurveResult(curve, layers, rows, last, lastB, weights);
    }

    private static double Distance(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) { double d = (double)a[i] - b[i]; s += d * d; }
        return Math.Sqrt(s);
    }
}
