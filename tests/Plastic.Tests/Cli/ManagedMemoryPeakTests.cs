using Plastic.Cli.Compare;

namespace Plastic.Tests.Cli;

/// <summary>The comparison's training-memory column: what the work held above its start.</summary>
public sealed class ManagedMemoryPeakTests
{
    [Fact]
    public void The_peak_counts_memory_held_during_the_work_even_after_it_is_released()
    {
        using var peak = new ManagedMemoryPeak();
        var held = new float[25_000_000];   // 100 MB
        held[^1] = 1;
        Thread.Sleep(60);                    // a few samples while it is held
        GC.KeepAlive(held);
        held = null;
        GC.Collect();
        double megabytes = peak.MegabytesAboveStart;
        Assert.InRange(megabytes, 100, 400);
    }
}
