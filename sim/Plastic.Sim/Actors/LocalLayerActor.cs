using System.Collections.Immutable;
using Akka.Actor;
using Plastic.Compute;
using Plastic.Rules;
using Plastic.Sim.Blocks;
using Plastic.Sim.Protocol;
using Plastic.Sim.Schedule;
using Plastic.Sim.Tracing;

namespace Plastic.Sim.Actors;

/// <summary>
/// One layer of a local-learning graph. It owns its block (weights, activations), its rule (with
/// B and the rule's optimiser state) and its weight optimiser state, and works through its steps in
/// order, in two phases per step: (1) as soon as Forward(t) is there, forward the block and send the
/// output up (a layer with declared feedback edges also sends its top-down reference down); (2) once
/// the signals its rule declares for t are there, apply the rule and step the optimiser. Step t+1's
/// forward waits for step t's update, so every schedule computes the same thing. Every received
/// message is checked against the graph's wiring; an undeclared one stops the run.
/// </summary>
public sealed class LocalLayerActor : ReceiveActor
{
    private readonly string _name;
    private readonly IComputeBackend _backend;
    private readonly LayerBlock _block;
    private readonly ILocalRule _rule;
    private readonly Wiring _wiring;
    private readonly AdamWSettings _optimizer;
    private readonly IActorRef _driver;
    private readonly int _staleness;
    private readonly int _snapshotEvery;
    private readonly CheckpointPlan? _checkpoints;
    private readonly LearningWindow? _window;
    private readonly ParameterState _state;
    private readonly TopDownSource? _topDownSource;
    private readonly Inbox _inbox;
    private readonly Outbox _outbox;
    private readonly TensorSlot _input, _reference;
    private readonly Dictionary<long, Forward> _forwards = [];
    private readonly Dictionary<long, Pairing> _pairings = [];
    private readonly SortedDictionary<long, TopDownReference> _references = [];
    // The reference now in the _reference slot. Under a staleness bound one reference serves several steps,
    // and its payload may be one its receiver can read only once (a pooled array, a lane's bytes, a device copy).
    private TopDownReference? _loaded;
    private long _nextStep;
    private bool _awaitingUpdate;

    private readonly IReadOnlySet<long>? _faultSteps;

    public LocalLayerActor(LayerSetup setup)
    {
        _name = setup.Name;
        _faultSteps = setup.FaultSteps;
        _backend = setup.Backend;
        _block = setup.Block;
        _rule = setup.Rule;
        _wiring = setup.Wiring;
        _optimizer = setup.Optimizer;
        _driver = setup.Driver;
        _nextStep = setup.FirstStep;
        _staleness = setup.Staleness;
        _snapshotEvery = setup.SnapshotEvery;
        _state = new ParameterState(_backend, _block);
        _checkpoints = setup.Checkpoints;
        _window = setup.Window;
        string? startFailure = setup.ResumeFile is { } resume ? NodeStart.Try(() => Checkpoints.LayerCheckpoint.Load(resume, _backend, _state.CheckpointTensors, _rule.CheckpointState)) : null;
        _inbox = new Inbox(_name, _wiring, _driver);
        _outbox = new Outbox(_name, _wiring, setup.Sends);
        _input = new TensorSlot(_backend, TensorKind.Activations); // the layer's input, kept for its update (and no longer)
        _reference = new TensorSlot(_backend);
        if (_outbox.Targets(MessageKind.TopDownReference).Any())
            _topDownSource = new TopDownSource(_backend, _block.Shape);

        Receive<Connect>(c =>
        {
            if (startFailure is not null)
            {
                _driver.Tell(new NodeFailed(_name, setup.FirstStep, startFailure));
                return;
            }
            _outbox.Connect(c);
            _inbox.Connected(Context);
        });
        Receive<Forward>(f => Accept(f, () => _forwards[f.Step] = f));
        Receive<Pairing>(p => Accept(p, () => _pairings[p.Step] = p));
        Receive<TopDownReference>(r => Accept(r, () => _references[r.Step] = r));
        Receive<ISimMessage>(m => Accept(m, () => { }));
        // A layer that could not load its checkpoint has no parameters of the run to give (a resume with no
        // step left to run would otherwise hand over its initial weights).
        Receive<GetParameters>(_ => Sender.Tell(startFailure is null ? _state.Snapshot(_name) : new Status.Failure(new InvalidDataException($"Node '{_name}' {startFailure}"))));
    }

    private void Accept(ISimMessage message, Action store) => _inbox.Handle(message, () =>
    {
        store();
        Advance();
    }, Context);

    /// <summary>Runs every phase that its messages allow, in step order.</summary>
    private void Advance()
    {
        while (true)
        {
            if (!_awaitingUpdate && _forwards.Remove(_nextStep, out var forward))
            {
                ForwardPhase(forward);
                _awaitingUpdate = true;
            }
            else if (_awaitingUpdate && SignalsReady(_nextStep, out var reference))
            {
                UpdatePhase(_nextStep, reference);
                _awaitingUpdate = false;
                _nextStep++;
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>
    /// The pairing of step t, and a top-down reference: by default of step t itself; with a staleness
    /// bound s, the newest one from steps t-s .. t.
    /// </summary>
    private bool SignalsReady(long step, out TopDownReference? reference)
    {
        reference = null;
        if (_rule.Needs.HasFlag(RuleSignals.Pairing) && !_pairings.ContainsKey(step)) return false;
        // References older than the bound can never be used again (nor, by a rule that needs none, at all).
        foreach (var old in _references.Keys.Where(k => k < step - _staleness || !_rule.Needs.HasFlag(RuleSignals.TopDownReference)).ToList())
            _references.Remove(old);
        if (!_rule.Needs.HasFlag(RuleSignals.TopDownReference)) return true;
        reference = _references.Where(r => r.Key <= step).Select(r => r.Value).LastOrDefault();
        return reference is not null;
    }

    private void ForwardPhase(Forward forward)
    {
        using var phase = SimTelemetry.StartPhase(_name, StepSchedule.Forward, forward.Step, _backend);
        var output = _block.Forward(_input.Load(forward.Activations));
        _outbox.SendToAll(new Forward(_name, forward.Step, _outbox.Payload(MessageKind.Forward, output), SimTelemetry.Outgoing()));
        if (_topDownSource is not null)
        {
            var reference = _outbox.Payload(MessageKind.TopDownReference, _topDownSource.Reference(output));
            _outbox.SendToAll(new TopDownReference(_name, forward.Step, reference, SimTelemetry.Outgoing()));
        }
    }

    private void UpdatePhase(long step, TopDownReference? reference)
    {
        using var phase = SimTelemetry.StartPhase(_name, StepSchedule.Update, step, _backend);
        if (_faultSteps?.Contains(step) == true) throw new InvalidOperationException($"injected fault ({_name}@{step}): the layer fails as a crashed one would");
        int batch = _block.Output.Shape[0] / 2;
        ReadOnlyMemory<int> negatives = _pairings.Remove(step, out var pairing) ? pairing.Negatives.AsMemory() : default;
        Tensor? topDown = null;
        if (reference is not null)
        {
            topDown = ReferenceEquals(reference, _loaded) ? _reference.For(reference.Reference.Shape) : _reference.Load(reference.Reference);
            _loaded = reference;
        }
        if (_snapshotEvery > 0 && step % _snapshotEvery == 0) SendSnapshot(step);
        // Outside its learning window (greedy training) a layer only forwards: no loss, no update.
        double loss = double.NaN;
        if (_window is null || _window.Contains(step))
        {
            long own = _window?.LocalStep(step) ?? step;
            loss = _rule.ComputeUpdate(_block.ViewForRule(batch, negatives, topDown, own), _state.GradWeight, _state.GradBias);
            // NaN is a rule's "no loss" (a rule that only freezes or forwards); divergence shows as an infinite
            // loss here, or as a gradient that is not finite, which the optimiser step refuses.
            if (double.IsInfinity(loss)) throw new DivergedException($"diverged: the local loss is {loss}; lower the learning rate (it is {_optimizer.LearningRate:G3})");
            _state.Step(_optimizer, own);
        }
        // The checkpoint of step t is the state after its update, written before the step is reported
        // done: the driver marks it complete once every layer has reported.
        if (_checkpoints is { } plan && plan.IsCheckpoint(step))
            Checkpoints.LayerCheckpoint.Write(Path.Combine(Checkpoints.LayerCheckpoint.FolderOf(plan.Directory, step), $"{_name}.npz"),
                _state.CheckpointTensors, _rule.CheckpointState);
        // No activation is kept past the update where freeing gives the memory back at once (a device); on the
        // CPU backend the freed arrays would wait for the garbage collector (an STL-10-sized run grew past 23 GB).
        if (_backend.FreesOnDispose)
        {
            _block.ReleaseActivations();
            _input.Release();
            // A reference that may serve a later step stays (it is small: the top layer's pooled activity).
            if (_staleness == 0)
            {
                _reference.Release();
                _loaded = null;
            }
        }
        _driver.Tell(new StepDone(_name, step, loss, reference?.Step));
    }

    /// <summary>The parameters step t's forward pass used, before the rule or the optimiser changes them, for the monitor.</summary>
    private void SendSnapshot(long step)
    {
        var state = _rule.State.Select(TensorPayload.From).ToImmutableArray();
        var bias = _block.Bias is { } b ? TensorPayload.From(b) : null;
        _outbox.SendToAll(new Snapshot(_name, step, TensorPayload.From(_block.Weight), bias, state, SimTelemetry.Outgoing()));
    }

    protected override void PostStop()
    {
        _rule.Dispose();
        _block.Dispose();
        _state.Dispose();
        _topDownSource?.Dispose();
        _input.Dispose();
        _reference.Dispose();
        base.PostStop();
    }
}

/// <summary>
/// What a layer actor is created with; it takes ownership of the block and the rule. Staleness is
/// how many steps old a top-down reference may be (0: wait for the reference of the same step);
/// SnapshotEvery above 0 sends the monitor a snapshot of the parameters every that many steps; Window
/// (greedy training) limits the steps in which the layer learns, null: every step.
/// </summary>
public sealed record LayerSetup(string Name, IComputeBackend Backend, LayerBlock Block, ILocalRule Rule, Wiring Wiring, AdamWSettings Optimizer, IActorRef Driver,
    long FirstStep = 0, int Staleness = 0, int SnapshotEvery = 0, CheckpointPlan? Checkpoints = null, string? ResumeFile = null, LearningWindow? Window = null,
    ISendPolicy? Sends = null, IReadOnlySet<long>? FaultSteps = null);

/// <summary>Where and how often layers write checkpoints: after every step t with (t + 1) a multiple of Every.</summary>
public sealed record CheckpointPlan(string Directory, int Every)
{
    public bool IsCheckpoint(long step) => Every > 0 && (step + 1) % Every == 0;
}
