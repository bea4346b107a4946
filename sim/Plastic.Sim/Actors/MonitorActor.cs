using Akka.Actor;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Actors;

/// <summary>
/// The alignment monitor: an instrument node. For every step it is sent snapshots of, it waits for
/// all layers' snapshots, loads them into its own <see cref="AlignmentMeter"/>, rebuilds the step's
/// minibatch from the batch source (the same step always gives the same batch) and measures each
/// layer's local update against backprop. It never sends to a layer; its inbound edges are
/// instrument edges, left out of the locality verdict.
/// </summary>
public sealed class MonitorActor : ReceiveActor
{
    private readonly AlignmentMeter _meter;
    private readonly IBatchSource _source;
    private readonly IReadOnlyList<string> _layers;
    private readonly Action<long, IReadOnlyList<LayerAlignment>> _onMeasured;
    private readonly Inbox _inbox;
    private readonly Dictionary<long, Dictionary<string, Snapshot>> _pending = [];

    public MonitorActor(AlignmentMeter meter, IBatchSource source, IReadOnlyList<string> layers, Wiring wiring, IActorRef driver,
        Action<long, IReadOnlyList<LayerAlignment>> onMeasured)
    {
        _meter = meter;
        _source = source;
        _layers = layers;
        _onMeasured = onMeasured;
        _inbox = new Inbox(GraphWiring.MonitorNode, wiring, driver);
        Receive<Connect>(_ => { });
        Receive<Snapshot>(s => _inbox.Handle(s, () => Store(s), Context));
        Receive<Flush>(_ => Sender.Tell(new Flushed(_pending.Count)));
    }

    private void Store(Snapshot snapshot)
    {
        if (!_pending.TryGetValue(snapshot.Step, out var byLayer)) _pending[snapshot.Step] = byLayer = [];
        byLayer[snapshot.From] = snapshot;
        if (byLayer.Count < _layers.Count) return;
        _pending.Remove(snapshot.Step);
        for (int l = 0; l < _layers.Count; l++)
        {
            var s = byLayer[_layers[l]];
            _meter.Load(l, s.Weight.Values, s.Bias is null ? [] : s.Bias.Values, s.RuleState.Select(t => t.Values.ToArray()).ToList());
        }
        _onMeasured(snapshot.Step, _meter.Measure(_source.Batch(snapshot.Step), snapshot.Step));
    }

    protected override void PostStop()
    {
        _meter.Dispose();
        base.PostStop();
    }

    /// <summary>Asks the monitor to answer once every snapshot sent before has been handled.</summary>
    public sealed record Flush;

    /// <summary>The answer to <see cref="Flush"/>: how many steps still lack some layer's snapshot (0 after a complete run).</summary>
    public sealed record Flushed(int IncompleteSteps);
}
