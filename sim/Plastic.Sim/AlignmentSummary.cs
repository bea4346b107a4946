namespace Plastic.Sim;

/// <summary>
/// One layer's alignment over several measurements: mean cosine with its 95% interval (1.96 standard
/// deviations of the mean, as PAPER.md 2.6 reports them, which uses 1.97 for 32 batches; NaN with a single measurement), the mean norm
/// ratio, and the error-signal cosine likewise (NaN for rules without an output signal).
/// </summary>
public sealed record LayerAlignmentSummary(string Layer, int Measurements, double Cosine, double Interval95, double NormRatio,
    double ErrorCosine, double ErrorInterval95)
{
    /// <summary>Per layer, in order of first appearance.</summary>
    public static IReadOnlyList<LayerAlignmentSummary> Of(IEnumerable<LayerAlignment> measurements) =>
        measurements.GroupBy(m => m.Layer).Select(g =>
        {
            var (cos, cosInterval) = MeanAndInterval(g.Select(m => m.Cosine).ToList());
            var (err, errInterval) = MeanAndInterval(g.Select(m => m.ErrorCosine).ToList());
            return new LayerAlignmentSummary(g.Key, g.Count(), cos, cosInterval, g.Average(m => m.NormRatio), err, errInterval);
        }).ToList();

    private static (double Mean, double Interval95) MeanAndInterval(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        if (values.Count < 2) return (mean, double.NaN);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
        return (mean, 1.96 * Math.Sqrt(variance / values.Count));
    }
}
