namespace Plastic.Experiments.Compare;

/// <summary>A mean over seeds with its 95 % interval (Student's t; NaN half-width for one seed).</summary>
public sealed record SeedMean(int Count, double Mean, double HalfWidth)
{
    public double Low => Mean - HalfWidth;
    public double High => Mean + HalfWidth;

    /// <summary>Whether the interval leaves out 0: the seeds tell the sign apart (for a difference).</summary>
    public bool ExcludesZero => Count > 1 && (Low > 0 || High < 0);
}

/// <summary>Means and 95 % intervals over seeds, and paired differences over the same seeds.</summary>
public static class SeedStatistics
{
    /// <summary>Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom (then the normal's 1.96).</summary>
    private static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    public static double TQuantile(int degreesOfFreedom) => degreesOfFreedom < 1 ? double.NaN : degreesOfFreedom <= T975.Length ? T975[degreesOfFreedom - 1] : 1.96;

    public static SeedMean Of(IReadOnlyList<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        int n = finite.Count;
        if (n == 0) return new SeedMean(0, double.NaN, double.NaN);
        double mean = finite.Average();
        if (n == 1) return new SeedMean(1, mean, double.NaN);
        double sd = Math.Sqrt(finite.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        return new SeedMean(n, mean, TQuantile(n - 1) * sd / Math.Sqrt(n));
    }

    /// <summary>The mean of a - b over the seeds both have (finite), with its interval: the paired test's.</summary>
    public static SeedMean PairedDifference(IReadOnlyDictionary<ulong, double> a, IReadOnlyDictionary<ulong, double> b) =>
        Of(a.Keys.Intersect(b.Keys).Where(s => double.IsFinite(a[s]) && double.IsFinite(b[s])).OrderBy(s => s).Select(s => a[s] - b[s]).ToList());
}
