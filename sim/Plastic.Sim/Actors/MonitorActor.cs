using System.Collections.Immutable;
using Akka.Actor;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Actors;

/// <summary>
/// The monitor: an instrument node. For every step it is sent snapshots of, it waits for all layers'
/// snapshots; at alignment steps it loads them into its own <see cref="AlignmentMeter"/>, rebuilds the
/// step's minibatch from the batch source (the same step always gives the same batch) and measures each
/// layer's local update against backprop; at observed steps it hands the parameters to the run's
/// observer (an online probe). It never sends to a layer; its inbound edges are instrument edges, left
/// out of the locality verdict.
/// </summary>
public sealed class MonitorActor : ReceiveActor
{
    private readonly MonitorSetup _setup;
    private readonly Inbox _inbox;
    private readonly Dictionary<long, Dictionary<string, Snapshot>> _pending = [];

    public MonitorActor(MonitorSetup setup, Wiring wiring, IActorRef driver)
    {
        _setup = setup;
        _inbox = new Inbox(GraphWiring.MonitorNode, wiring, driver);
        Receive<Connect>(_ => _inbox.Connected(Context));
        Receive<Snapshot>(s => _inbox.Handle(s, () => Store(s), Context));
        Receive<Flush>(_ => Sender.Tell(new Flushed(_pending.Count)));
    }

    private void Store(Snapshot snapshot)
    {
        if (!_pending.TryGetValue(snapshot.Step, out var byLayer)) _pending[snapshot.Step] = byLayer = [];
        byLayer[snapshot.From] = snapshot;
        if (byLayer.Count < _setup.Layers.Count) return;
        _pending.Remove(snapshot.Step);
        long step = snapshot.Step;
        if (_setup.Meter is { } meter && _setup.AlignEvery > 0 && step % _setup.AlignEvery == 0)
        {
            for (int l = 0; l < _setup.Layers.Count; l++)
            {
                var s = byLayer[_setup.Layers[l]];
                meter.Load(l, s.Weight.Values, s.Bias is null ? [] : s.Bias.Values, s.RuleState.Select(t => t.Values.ToArray()).ToList());
            }
            _setup.OnMeasured(step, meter.Measure(_setup.Source.Batch(step), step));
        }
        if (_setup.Observer is { } observer && _setup.ObserveEvery > 0 && step % _setup.ObserveEvery == 0)
            observer.ParametersAt(step, byLayer.Values.ToImmutableDictionary(s => s.From,
                s => new Parameters(s.From, [.. s.Weight.Values], s.Bias is null ? [] : [.. s.Bias.Values])));
    }

    protected override void PostStop()
    {
        _setup.Meter?.Dispose();
        base.PostStop();
    }

    /// <summary>Asks the monitor to answer once every snapshot sent before has been handled.</summary>
    public sealed record Flush;

    /// <summary>The answer to <see cref="Flush"/>: how many steps still lack some layer's snapshot (0 after a complete run).</summary>
    public sealed record Flushed(int IncompleteSteps);
}

/// <summary>
/// What the monitor does with complete snapshots: alignment every AlignEvery steps (with a meter; it
/// owns it), the observer every ObserveEvery steps (with an observer).
/// </summary>
public sealed record MonitorSetup(IReadOnlyList<string> Layers, IBatchSource Source, AlignmentMeter? Meter, int AlignEvery,
    Action<long, IReadOnlyList<LayerAlignment>> OnMeasured, IRunObserver? Observer, int ObserveEvery);
