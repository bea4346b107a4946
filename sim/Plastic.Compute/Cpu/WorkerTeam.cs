using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Plastic.Compute.Cpu;

/// <summary>
/// Dedicated threads that help run the parts of a <see cref="CpuParallel"/> loop. The caller always runs
/// parts itself and takes every part no helper has started, so a loop never waits on a busy helper: it only
/// waits for parts already running. Why not Parallel.For on the .NET thread pool: in a run the actors'
/// messages are handled on that pool too, and a part queued there often started only after the caller had
/// finished its own (the backprop graph's step ran on one core for about a fifth of its time, 2026-12-03).
/// Which thread runs a part never changes what the part computes: results stay bit-identical.
/// </summary>
internal sealed class WorkerTeam
{
    public static readonly WorkerTeam Shared = new();

    private readonly Queue<Job> _tickets = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _signal = new(0);
    private int _workers;

    /// <summary>Runs body(0) .. body(parts - 1), with up to <paramref name="helpers"/> helper threads beside the caller.</summary>
    public void Run(int parts, int helpers, Action<int> body)
    {
        var job = new Job(parts, body);
        helpers = Math.Min(helpers, parts - 1);
        if (helpers > 0)
        {
            EnsureWorkers(helpers);
            lock (_gate)
                for (int i = 0; i < helpers; i++) _tickets.Enqueue(job);
            _signal.Release(helpers);
        }
        job.Work();
        job.WaitForRunningParts();
        job.ThrowIfFailed();
    }

    private void EnsureWorkers(int count)
    {
        if (Volatile.Read(ref _workers) >= count) return;
        lock (_gate)
        {
            while (_workers < count)
            {
                var thread = new Thread(Serve) { IsBackground = true, Name = $"plastic-cpu-{_workers + 1}" };
                thread.Start();
                _workers++;
            }
        }
    }

    /// <summary>
    /// How long an idle helper keeps asking for work before it sleeps on the semaphore: a loop's next part
    /// comes within microseconds of the last in a training step, and a helper woken from sleep started its
    /// part tens of microseconds after the caller, who then waited for it (about a tenth of the CPU samples
    /// of a backprop step). Asking yields the core between tries, so a layer thread that needs it gets it.
    /// </summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 us

    private void Serve()
    {
        while (true)
        {
            long until = Stopwatch.GetTimestamp() + SpinTicks;
            var spin = new SpinWait();
            bool signalled;
            while (!(signalled = _signal.Wait(0)) && Stopwatch.GetTimestamp() < until) spin.SpinOnce(sleep1Threshold: -1);
            if (!signalled) _signal.Wait();
            Job? job;
            lock (_gate) _tickets.TryDequeue(out job);
            job?.Work();
        }
    }

    /// <summary>One loop: parts are claimed in order by whoever asks next; each is counted when it ends.</summary>
    private sealed class Job(int parts, Action<int> body)
    {
        private int _next = -1, _finished;
        private ExceptionDispatchInfo? _error;

        public void Work()
        {
            int part;
            while ((part = Interlocked.Increment(ref _next)) < parts)
            {
                try
                {
                    body(part);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
                }
                Interlocked.Increment(ref _finished);
            }
        }

        /// <summary>Every part is claimed once the caller's own <see cref="Work"/> returns; this waits for those still running on helpers.</summary>
        public void WaitForRunningParts()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _finished) < parts) spin.SpinOnce(sleep1Threshold: -1); // never a 1 ms sleep
        }

        /// <summary>A part's error (the first caught) reaches the caller as itself, as with one thread, not wrapped.</summary>
        public void ThrowIfFailed() => _error?.Throw();
    }
}
