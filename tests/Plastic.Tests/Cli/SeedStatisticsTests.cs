using Plastic.Experiments.Compare;

namespace Plastic.Tests.Cli;

public sealed class SeedStatisticsTests
{
    [Fact]
    public void The_interval_is_students_t_over_the_seeds()
    {
        // Three values 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.303, half-width 4.303 / sqrt(3).
        var m = SeedStatistics.Of([1.0, 2.0, 3.0]);
        Assert.Equal(2.0, m.Mean, 12);
        Assert.Equal(4.303 / Math.Sqrt(3), m.HalfWidth, 9);
        Assert.False(m.ExcludesZero); // 2 - 2.484 < 0: the interval holds 0
        Assert.True(SeedStatistics.Of([5.0, 5.1, 4.9]).ExcludesZero);
        Assert.True(double.IsNaN(SeedStatistics.Of([0.5]).HalfWidth));
        Assert.Equal(1.96, SeedStatistics.TQuantile(100));
        Assert.Equal(12.706, SeedStatistics.TQuantile(1));
    }

    [Fact]
    public void A_paired_difference_uses_the_seeds_both_sides_have()
    {
        var a = new Dictionary<ulong, double> { [2] = 0.60, [3] = 0.62, [4] = 0.61, [5] = double.NaN };
        var b = new Dictionary<ulong, double> { [2] = 0.58, [3] = 0.59, [4] = 0.60, [6] = 0.10 };
        var d = SeedStatistics.PairedDifference(a, b);
        Assert.Equal(3, d.Count);
        Assert.Equal((0.02 + 0.03 + 0.01) / 3, d.Mean, 12);
        // Differences 0.01, 0.02, 0.03: sd 0.01, half-width 4.303 * 0.01 / sqrt(3) = 0.0248 > 0.02: three seeds do not resolve it.
        Assert.Equal(0.0248434, d.HalfWidth, 6);
        Assert.False(d.ExcludesZero);
        var same = SeedStatistics.PairedDifference(new Dictionary<ulong, double> { [2] = 0.60, [3] = 0.62, [4] = 0.61 }, new Dictionary<ulong, double> { [2] = 0.58, [3] = 0.60, [4] = 0.59 });
        Assert.True(same.ExcludesZero); // 0.02 on every seed
    }
}
