using Akka.Actor;
using Plastic.Compute;
using Plastic.Sim.Blocks;
using Plastic.Sim.Protocol;
using Plastic.Sim.Schedule;
using Plastic.Sim.Tracing;

namespace Plastic.Sim.Actors;

/// <summary>
/// One layer of the global-backprop graph: the same block math as a local layer, but it learns
/// only from Backward(step, dL/d output) coming down from above, and sends dL/d input further down.
/// Backprop is backward-locked: a layer keeps its activations until the gradient of the same step
/// arrives, so the driver runs one step at a time.
/// </summary>
public sealed class BackpropLayerActor : ReceiveActor
{
    private readonly string _name;
    private readonly IComputeBackend _backend;
    private readonly LayerBlock _block;
    private readonly Wiring _wiring;
    private readonly AdamWSettings _optimizer;
    private readonly IActorRef _driver;
    private readonly ParameterState _state;
    private readonly Inbox _inbox;
    private readonly Outbox _outbox;
    private readonly TensorSlot _input, _gradOutput, _gradInput;
    private readonly bool _isFirst;
    private long _forwardStep = -1;
    private readonly int _snapshotEvery;
    private readonly CheckpointPlan? _checkpoints;
    private readonly IReadOnlySet<long>? _faultSteps;

    public BackpropLayerActor(BackpropLayerSetup setup)
    {
        _name = setup.Name;
        _backend = setup.Backend;
        _block = setup.Block;
        _wiring = setup.Wiring;
        _optimizer = setup.Optimizer;
        _driver = setup.Driver;
        _snapshotEvery = setup.SnapshotEvery;
        _checkpoints = setup.Checkpoints;
        _faultSteps = setup.FaultSteps;
        _state = new ParameterState(_backend, _block);
        string? startFailure = setup.ResumeFile is { } resume ? NodeStart.Try(() => Checkpoints.LayerCheckpoint.Load(resume, _backend, _state.CheckpointTensors, [])) : null;
        _inbox = new Inbox(_name, _wiring, _driver);
        _outbox = new Outbox(_name, _wiring, setup.Sends);
        _input = new TensorSlot(_backend, TensorKind.Activations); // the layer's input, kept for its backward pass
        _gradOutput = new TensorSlot(_backend);
        _gradInput = new TensorSlot(_backend);
        _isFirst = !_outbox.Targets(MessageKind.Backward).Any();

        Receive<Connect>(c =>
        {
            if (startFailure is not null)
            {
                _driver.Tell(new NodeFailed(_name, -1, startFailure));
                return;
            }
            _outbox.Connect(c);
            _inbox.Connected(Context);
        });
        Receive<ISimMessage>(Handle);
        // A layer that could not load its checkpoint has no parameters of the run to give (a resume with no
        // step left to run would otherwise hand over its initial weights).
        Receive<GetParameters>(_ => Sender.Tell(startFailure is null ? _state.Snapshot(_name) : new Status.Failure(new InvalidDataException($"Node '{_name}' {startFailure}"))));
    }

    private void Handle(ISimMessage message) => _inbox.Handle(message, () =>
    {
        switch (message)
        {
            case Forward f: OnForward(f); break;
            case Backward b: OnBackward(b); break;
            default: throw new InvalidOperationException($"Layer '{_name}' of a backprop graph does not use {message.Kind} messages.");
        }
    }, Context);

    private void OnForward(Forward f)
    {
        using var phase = SimTelemetry.StartPhase(_name, StepSchedule.Forward, f.Step, _backend);
        var input = _input.Load(f.Activations);
        var output = _block.Forward(input);
        _forwardStep = f.Step;
        _outbox.SendToAll(new Forward(_name, f.Step, _outbox.Payload(MessageKind.Forward, output), SimTelemetry.Outgoing()));
    }

    private void OnBackward(Backward b)
    {
        using var phase = SimTelemetry.StartPhase(_name, StepSchedule.Backward, b.Step, _backend);
        if (b.Step != _forwardStep)
            throw new InvalidOperationException($"Layer '{_name}' got the gradient of step {b.Step} but holds the activations of step {_forwardStep}.");
        if (_faultSteps?.Contains(b.Step) == true) throw new InvalidOperationException($"injected fault ({_name}@{b.Step}): the layer fails as a crashed one would");
        // The first layer's input gradient would go nowhere: it is not computed.
        if (_snapshotEvery > 0 && b.Step % _snapshotEvery == 0)
            _outbox.SendToAll(new Snapshot(_name, b.Step, TensorPayload.From(_block.Weight), _block.Bias is { } bias ? TensorPayload.From(bias) : null, [], SimTelemetry.Outgoing()));
        var gradInput = _isFirst ? null : _gradInput.For(_block.Input.Shape);
        // The input gradient goes down first: the layer below starts its backward pass while this one
        // computes its weight gradient (the same operations in the same order as one backward call).
        var gradPre = _block.BackwardInput(_gradOutput.Load(b.Gradient), gradInput);
        if (gradInput is not null)
            _outbox.SendToAll(new Backward(_name, b.Step, _outbox.Payload(MessageKind.Backward, gradInput), SimTelemetry.Outgoing()));
        _block.BackwardWeights(gradPre, _state.GradWeight, _state.GradBias);
        _state.Step(_optimizer, b.Step);
        // As in a local layer: the state after step t's update, written before the step is reported done.
        if (_checkpoints is { } plan && plan.IsCheckpoint(b.Step))
            Checkpoints.LayerCheckpoint.Write(Path.Combine(Checkpoints.LayerCheckpoint.FolderOf(plan.Directory, b.Step), $"{_name}.npz"), _state.CheckpointTensors, []);
        _driver.Tell(new StepDone(_name, b.Step, double.NaN));
    }

    protected override void PostStop()
    {
        _block.Dispose();
        _state.Dispose();
        _input.Dispose();
        _gradOutput.Dispose();
        _gradInput.Dispose();
        base.PostStop();
    }
}

/// <summary>
/// What a backprop layer actor is created with; it takes ownership of the block. SnapshotEvery above 0
/// sends the monitor the parameters step t's forward pass used, every that many steps; Checkpoints and
/// ResumeFile as for a local layer (weights, bias and their AdamW moments); FaultSteps are injected faults.
/// </summary>
public sealed record BackpropLayerSetup(string Name, IComputeBackend Backend, LayerBlock Block, Wiring Wiring, AdamWSettings Optimizer, IActorRef Driver, int SnapshotEvery = 0,
    ISendPolicy? Sends = null, CheckpointPlan? Checkpoints = null, string? ResumeFile = null, IReadOnlySet<long>? FaultSteps = null);
