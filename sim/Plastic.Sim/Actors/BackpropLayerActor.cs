using Akka.Actor;
using Plastic.Compute;
using Plastic.Sim.Blocks;
using Plastic.Sim.Protocol;
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
    private Akka.Actor.IActorRef? _below, _above;
    private string? _belowName, _aboveName;
    private Tensor? _input, _gradOutput, _gradInput;
    private long _forwardStep = -1;

    public BackpropLayerActor(BackpropLayerSetup setup)
    {
        _name = setup.Name;
        _backend = setup.Backend;
        _block = setup.Block;
        _wiring = setup.Wiring;
        _optimizer = setup.Optimizer;
        _driver = setup.Driver;
        _state = new ParameterState(_backend, _block);

        Receive<Connect>(c =>
        {
            _aboveName = _wiring.Targets(_name, MessageKind.Forward).Single();
            _above = c.Nodes[_aboveName];
            _belowName = _wiring.Targets(_name, MessageKind.Backward).SingleOrDefault();
            if (_belowName is not null) _below = c.Nodes[_belowName];
        });
        Receive<ISimMessage>(Handle);
        Receive<GetParameters>(_ => Sender.Tell(_state.Snapshot(_name)));
    }

    private void Handle(ISimMessage message)
    {
        using var span = SimTelemetry.StartHandling(_name, message);
        try
        {
            _wiring.Check(message.From, _name, message.Kind);
            switch (message)
            {
                case Forward f: OnForward(f); break;
                case Backward b: OnBackward(b); break;
                default: throw new InvalidOperationException($"Layer '{_name}' of a backprop graph does not use {message.Kind} messages.");
            }
        }
        catch (Exception e)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            _driver.Tell(new NodeFailed(_name, message.Step, e.Message));
            Context.Stop(Self);
        }
    }

    private void OnForward(Forward f)
    {
        _input = Reuse(_input, f.Activations.Shape);
        f.Activations.CopyTo(_backend, _input);
        var output = _block.Forward(_input);
        _forwardStep = f.Step;
        Send(_aboveName!, _above!, new Forward(_name, f.Step, TensorPayload.From(output), SimTelemetry.Outgoing()));
    }

    private void OnBackward(Backward b)
    {
        if (b.Step != _forwardStep)
            throw new InvalidOperationException($"Layer '{_name}' got the gradient of step {b.Step} but holds the activations of step {_forwardStep}.");
        _gradOutput = Reuse(_gradOutput, b.Gradient.Shape);
        b.Gradient.CopyTo(_backend, _gradOutput);
        if (_below is not null) _gradInput = Reuse(_gradInput, _input!.Shape);
        _block.Backward(_gradOutput, _state.GradWeight, _state.GradBias, _below is null ? null : _gradInput);
        if (_below is not null)
            Send(_belowName!, _below, new Backward(_name, b.Step, TensorPayload.From(_gradInput!), SimTelemetry.Outgoing()));
        _state.Step(_optimizer, b.Step);
        _driver.Tell(new StepDone(_name, b.Step, double.NaN));
    }

    private Tensor Reuse(Tensor? current, Shape shape)
    {
        if (current is not null && current.Shape == shape) return current;
        current?.Dispose();
        return _backend.Allocate(shape);
    }

    private void Send(string target, IActorRef actor, ISimMessage message)
    {
        _wiring.Check(_name, target, message.Kind);
        SimTelemetry.CountSend(_name, target, message.Kind, message.Bytes);
        actor.Tell(message);
    }

    protected override void PostStop()
    {
        _block.Dispose();
        _state.Dispose();
        foreach (var t in new[] { _input, _gradOutput, _gradInput }) t?.Dispose();
        base.PostStop();
    }
}

/// <summary>What a backprop layer actor is created with; it takes ownership of the block.</summary>
public sealed record BackpropLayerSetup(string Name, IComputeBackend Backend, LayerBlock Block, Wiring Wiring, AdamWSettings Optimizer, IActorRef Driver);
