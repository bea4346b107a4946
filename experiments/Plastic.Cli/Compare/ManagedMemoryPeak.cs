namespace Plastic.Cli.Compare;

/// <summary>
/// The most managed-heap memory a piece of work held above what was live when it started, sampled every
/// 20 ms. CPU tensors live on the managed heap, so for a CPU run this is the training's own memory:
/// weights, optimiser state, activations in flight, messages. Not counted: GPU memory, native buffers, and
/// allocations that live and die between two samples (GetTotalMemory(false) also counts garbage not yet
/// collected, so the number leans high by up to a gen-0 budget).
/// </summary>
public sealed class ManagedMemoryPeak : IDisposable
{
    private readonly long _baseline;
    // Not ManualResetEventSlim: its Wait spins before it blocks, and a sampler spinning every 20 ms took
    // about a tenth of a core from the training it measures (seen in a thread-time profile on 2 cores).
    private readonly ManualResetEvent _stop = new(false);
    private readonly Thread _sampler;
    private long _peak;

    public ManagedMemoryPeak()
    {
        _baseline = GC.GetTotalMemory(forceFullCollection: true);
        _peak = _baseline;
        // Its own thread: the actors keep the thread pool busy, and a pool timer can starve behind them.
        _sampler = new Thread(() => { do Sample(); while (!_stop.WaitOne(20)); }) { IsBackground = true, Name = "memory-peak" };
        _sampler.Start();
    }

    public double MegabytesAboveStart
    {
        get
        {
            Sample();
            return (Interlocked.Read(ref _peak) - _baseline) / 1e6;
        }
    }

    private void Sample()
    {
        long now = GC.GetTotalMemory(forceFullCollection: false);
        long seen;
        while (now > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, seen) != seen) { }
    }

    public void Dispose()
    {
        _stop.Set();
        _sampler.Join();
        _stop.Dispose();
    }
}
