using System.Diagnostics.Metrics;
using Plastic.Sim.Tracing;

namespace Plastic.Experiments.Runs;

/// <summary>
/// Counts the messages and bytes sent between a run's compute nodes (layers, and the backprop graph's
/// loss node) while it lives: not the input's data, not the monitor's snapshots. It listens to the
/// simulator's meters, which are process-wide, so one run at a time.
/// </summary>
public sealed class LayerTraffic : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _messages, _bytes;

    public LayerTraffic(IEnumerable<string> nodes)
    {
        var between = nodes.ToHashSet();
        _listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == SimTelemetry.Name) l.EnableMeasurementEvents(instrument); };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? from = null, to = null;
            foreach (var t in tags)
            {
                if (t.Key == SimTelemetry.CounterFromTag) from = t.Value as string;
                else if (t.Key == SimTelemetry.CounterToTag) to = t.Value as string;
            }
            if (from is null || to is null || !between.Contains(from) || !between.Contains(to)) return;
            if (instrument.Name == "plastic.sim.messages") Interlocked.Add(ref _messages, value); else Interlocked.Add(ref _bytes, value);
        });
        _listener.Start();
    }

    public long Messages => Interlocked.Read(ref _messages);

    public long Bytes => Interlocked.Read(ref _bytes);

    public void Dispose() => _listener.Dispose();
}
