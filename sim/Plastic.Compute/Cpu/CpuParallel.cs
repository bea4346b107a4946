namespace Plastic.Compute.Cpu;

/// <summary>
/// Runs a fixed number of parts on at most <see cref="Threads"/> threads. Work is always split the
/// same way for a given thread count and each part writes only its own outputs, which keeps results
/// bit-identical from run to run.
/// </summary>
internal sealed class CpuParallel(int threads)
{
    public int Threads { get; } = threads >= 1 ? threads : throw new ArgumentOutOfRangeException(nameof(threads), threads, "At least one thread.");

    public void For(int parts, Action<int> body)
    {
        if (parts <= 0) return;
        if (parts == 1 || Threads == 1)
        {
            for (int i = 0; i < parts; i++) body(i);
            return;
        }
        WorkerTeam.Shared.Run(parts, Threads - 1, body);
    }

    /// <summary>Splits [0, count) into at most Threads contiguous ranges, each a multiple of <paramref name="grain"/> but the last.</summary>
    public void ForRanges(int count, int grain, Action<int, int> body)
    {
        int units = (count + grain - 1) / grain;
        int parts = Math.Max(1, Math.Min(Threads, units));
        For(parts, p =>
        {
            int start = (int)((long)units * p / parts) * grain;
            int end = Math.Min(count, (int)((long)units * (p + 1) / parts) * grain);
            if (start < end) body(start, end);
        });
    }
}
