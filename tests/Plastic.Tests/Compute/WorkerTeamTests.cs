using System.Collections.Concurrent;
using Plastic.Compute.Cpu;

namespace Plastic.Tests.Compute;

/// <summary>
/// The CPU backend's parallel loops run on dedicated helper threads beside the caller (WorkerTeam): every
/// part once, two parts at the same time where a helper is free, errors unwrapped, and never a wait on a
/// helper that is busy elsewhere (the caller takes what no helper has started).
/// </summary>
public sealed class WorkerTeamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void Every_part_runs_once()
    {
        var runs = new int[1000];
        new CpuParallel(4).For(runs.Length, part => Interlocked.Increment(ref runs[part]));
        Assert.All(runs, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Two_parts_run_at_the_same_time_on_two_threads()
    {
        // Each part waits for the other to have started: with one thread this could only time out.
        using var started = new CountdownEvent(2);
        var threads = new ConcurrentBag<int>();
        bool bothRan = true;
        new CpuParallel(2).For(2, _ =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            started.Signal();
            bothRan &= started.Wait(Patience);
        });
        Assert.True(bothRan, "a part waited for its sibling in vain: the loop ran on one thread");
        Assert.Equal(2, threads.Distinct().Count());
    }

    [Fact]
    public void A_part_error_reaches_the_caller_unwrapped_after_the_other_parts_end()
    {
        int ended = 0;
        var error = Assert.Throws<InvalidOperationException>(() => new CpuParallel(2).For(8, part =>
        {
            if (part == 3) throw new InvalidOperationException("part 3 failed");
            Interlocked.Increment(ref ended);
        }));
        Assert.Equal("part 3 failed", error.Message);
        Assert.Equal(7, Volatile.Read(ref ended));
    }

    [Fact]
    public async Task A_loop_does_not_wait_for_a_helper_busy_with_another_loop()
    {
        using var release = new ManualResetEventSlim();
        using var blocked = new CountdownEvent(2);
        // Loop A holds its caller and the helpers it gets until released.
        var first = Task.Factory.StartNew(() => new CpuParallel(2).For(2, _ =>
        {
            blocked.Signal();
            release.Wait(Patience);
        }), TaskCreationOptions.LongRunning);
        try
        {
            Assert.True(blocked.Wait(Patience), "loop A did not start both its parts");
            // Loop B, from this thread, while every helper of a two-thread team is held by loop A: it runs its parts itself.
            var runs = new int[16];
            var done = Task.Run(() => new CpuParallel(2).For(runs.Length, part => runs[part]++));
            Assert.Same(done, await Task.WhenAny(done, Task.Delay(Patience))); // else loop B waited on a busy helper
            Assert.All(runs, count => Assert.Equal(1, count));
        }
        finally
        {
            release.Set();
            await first.WaitAsync(Patience);
        }
    }

    [Fact]
    public void A_part_may_run_a_loop_of_its_own()
    {
        var sums = new long[4];
        new CpuParallel(2).For(sums.Length, outer => new CpuParallel(2).For(100, inner => Interlocked.Add(ref sums[outer], inner)));
        Assert.All(sums, sum => Assert.Equal(4950, sum));
    }
}
