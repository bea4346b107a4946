using System.Diagnostics;
using Plastic.Compute;

namespace Plastic.Cli.Bench;

public sealed record KernelTiming(string Name, string Shape, double Flops, double MedianSeconds, double[] Seconds)
{
    public double Gflops => Flops / MedianSeconds / 1e9;
}

public static class KernelTimer
{
    /// <summary>Warm-up runs (at least two, and at least 0.2 s), then <paramref name="repeats"/> timed runs; the backend is synchronised around each.</summary>
    public static KernelTiming Measure(IComputeBackend backend, KernelCase c, int repeats)
    {
        long warmStart = Stopwatch.GetTimestamp();
        for (int w = 0; w < 2 || Stopwatch.GetElapsedTime(warmStart).TotalSeconds < 0.2; w++)
        {
            c.Run();
            backend.Synchronize();
        }
        var seconds = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            c.Run();
            backend.Synchronize();
            seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        var sorted = seconds.Order().ToArray();
        double median = repeats % 2 == 1 ? sorted[repeats / 2] : (sorted[repeats / 2 - 1] + sorted[repeats / 2]) / 2;
        return new KernelTiming(c.Name, c.Shape, c.Flops, median, seconds);
    }
}
