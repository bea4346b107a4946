using System.Collections.Concurrent;
using System.Diagnostics;

namespace Plastic.Sim.Tracing;

/// <summary>
/// Each node's busy time, summed from the spans of the messages it handled (one span per handled
/// message, SimTelemetry): busy / wall time is the node's utilisation. Listens while it exists; spans of
/// other runs in the same process are counted too, so use one at a time.
/// </summary>
public sealed class NodeBusyTime : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentDictionary<string, long> _ticks = new();
    private readonly ConcurrentDictionary<string, long> _handled = new();

    public NodeBusyTime()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SimTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = span =>
            {
                // Message spans only: a phase span (forward, update, ...) lies inside the message span that set it off.
                if (span.GetTagItem(SimTelemetry.NodeTag) is not string node || span.GetTagItem(SimTelemetry.KindTag) is null) return;
                _ticks.AddOrUpdate(node, span.Duration.Ticks, (_, t) => t + span.Duration.Ticks);
                _handled.AddOrUpdate(node, 1, (_, n) => n + 1);
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Busy time per node so far.</summary>
    public IReadOnlyDictionary<string, TimeSpan> Busy => _ticks.ToDictionary(kv => kv.Key, kv => TimeSpan.FromTicks(kv.Value));

    /// <summary>Messages handled per node so far.</summary>
    public IReadOnlyDictionary<string, long> Handled => _handled.ToDictionary(kv => kv.Key, kv => kv.Value);

    public void Reset()
    {
        _ticks.Clear();
        _handled.Clear();
    }

    public void Dispose() => _listener.Dispose();
}
