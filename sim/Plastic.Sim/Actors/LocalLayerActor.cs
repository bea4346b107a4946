using System.Collections.Immutable;
using Akka.Actor;
using Plastic.Compute;
using Plastic.Rules;
using Plastic.Sim.Blocks;
using Plastic.Sim.Protocol;
using Plastic.Sim.Tracing;

namespace Plastic.Sim.Actors;

/// <summary>
/// One layer of a local-learning graph. It owns its block (weights, activations), its rule (with
/// B and the rule's optimiser state) and its weight optimiser state. It handles step t when both
/// the activations of step t and the signals its rule declares for step t are there, in step order:
/// forward, send the output up, apply the rule, step the optimiser. Every received message is
/// checked against the graph's wiring; an undeclared one stops the run.
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
    private readonly ParameterState _state;
    private readonly SortedDictionary<long, Forward> _forwards = [];
    private readonly Dictionary<long, Pairing> _pairings = [];
    private ImmutableDictionary<string, IActorRef> _nodes = ImmutableDictionary<string, IActorRef>.Empty;
    private Tensor? _input;
    private long _nextStep;

    public LocalLayerActor(LayerSetup setup)
    {
        _name = setup.Name;
        _backend = setup.Backend;
        _block = setup.Block;
        _rule = setup.Rule;
        _wiring = setup.Wiring;
        _optimizer = setup.Optimizer;
        _driver = setup.Driver;
        _nextStep = setup.FirstStep;
        _state = new ParameterState(_backend, _block);

        Receive<Connect>(c => _nodes = c.Nodes);
        Receive<Forward>(f => Accept(f, () => _forwards[f.Step] = f));
        Receive<Pairing>(p => Accept(p, () => _pairings[p.Step] = p));
        Receive<ISimMessage>(m => Accept(m, () => { }));
        Receive<GetParameters>(_ => Sender.Tell(_state.Snapshot(_name)));
    }

    private void Accept(ISimMessage message, Action store)
    {
        using var span = SimTelemetry.StartHandling(_name, message);
        try
        {
            _wiring.Check(message.From, _name, message.Kind);
            store();
            while (Ready(_nextStep)) Process(_nextStep++);
        }
        catch (Exception e)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            _driver.Tell(new NodeFailed(_name, message.Step, e.Message));
            Context.Stop(Self);
        }
    }

    private bool Ready(long step) =>
        _forwards.ContainsKey(step) && (!_rule.Needs.HasFlag(RuleSignals.Pairing) || _pairings.ContainsKey(step));

    private void Process(long step)
    {
        var forward = _forwards[step];
        _forwards.Remove(step);
        var activations = forward.Activations;
        if (_input is null || _input.Shape != activations.Shape)
        {
            _input?.Dispose();
            _input = _backend.Allocate(activations.Shape);
        }
        activations.CopyTo(_backend, _input);
        var output = _block.Forward(_input);
        foreach (var target in _wiring.Targets(_name, MessageKind.Forward))
            Send(target, new Forward(_name, step, TensorPayload.From(output), SimTelemetry.Outgoing()));

        int batch = activations.Dims[0] / 2;
        ReadOnlyMemory<int> negatives = default;
        if (_pairings.Remove(step, out var pairing)) negatives = pairing.Negatives.AsMemory();
        double loss = _rule.ComputeUpdate(_block.ViewForRule(batch, negatives, topDown: null), _state.GradWeight, _state.GradBias);
        _state.Step(_optimizer, step);
        _driver.Tell(new StepDone(_name, step, loss));
    }

    /// <summary>Sends through the wiring: a kind the edge does not declare is refused before it leaves.</summary>
    private void Send(string target, ISimMessage message)
    {
        _wiring.Check(_name, target, message.Kind);
        if (!_nodes.TryGetValue(target, out var actor))
            throw new InvalidOperationException($"Layer '{_name}' has no actor for node '{target}'; was Connect sent?");
        SimTelemetry.CountSend(_name, target, message.Kind, message.Bytes);
        actor.Tell(message);
    }

    protected override void PostStop()
    {
        _rule.Dispose();
        _block.Dispose();
        _input?.Dispose();
        _state.Dispose();
        base.PostStop();
    }
}

/// <summary>What a layer actor is created with; it takes ownership of the block and the rule.</summary>
public sealed record LayerSetup(string Name, IComputeBackend Backend, LayerBlock Block, ILocalRule Rule, Wiring Wiring, AdamWSettings Optimizer, IActorRef Driver, long FirstStep = 0);
