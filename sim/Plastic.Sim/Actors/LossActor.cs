using Akka.Actor;
using Plastic.Compute;
using Plastic.Rules;
using Plastic.Sim.Protocol;
using Plastic.Sim.Tracing;

namespace Plastic.Sim.Actors;

/// <summary>
/// The top of the backprop graph: the contrastive loss of the top layer's output (BP-CLAPP++, the
/// same hinge loss and B as CLAPP++ but at the top only). For each step it needs the top layer's
/// Forward and the input's Pairing, then sends Backward(step, dL/d top output) down.
/// </summary>
public sealed class LossActor : ReceiveActor
{
    private readonly IComputeBackend _backend;
    private readonly ContrastiveHingeLoss _loss;
    private readonly Wiring _wiring;
    private readonly IActorRef _driver;
    private readonly Dictionary<long, Forward> _forwards = [];
    private readonly Dictionary<long, Pairing> _pairings = [];
    private IActorRef? _top;
    private string? _topName;
    private Tensor? _output;

    public LossActor(IComputeBackend backend, ContrastiveHingeLoss loss, Wiring wiring, IActorRef driver)
    {
        _backend = backend;
        _loss = loss;
        _wiring = wiring;
        _driver = driver;
        Receive<Connect>(c =>
        {
            _topName = _wiring.Targets(GraphWiring.LossNode, MessageKind.Backward).Single();
            _top = c.Nodes[_topName];
        });
        Receive<ISimMessage>(Handle);
    }

    private void Handle(ISimMessage message)
    {
        using var span = SimTelemetry.StartHandling(GraphWiring.LossNode, message);
        try
        {
            _wiring.Check(message.From, GraphWiring.LossNode, message.Kind);
            switch (message)
            {
                case Forward f: _forwards[f.Step] = f; break;
                case Pairing p: _pairings[p.Step] = p; break;
                default: throw new InvalidOperationException($"The loss node does not use {message.Kind} messages.");
            }
            if (_forwards.Remove(message.Step, out var forward))
            {
                if (_pairings.Remove(message.Step, out var pairing)) Compute(forward, pairing);
                else _forwards[message.Step] = forward;
            }
        }
        catch (Exception e)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            _driver.Tell(new NodeFailed(GraphWiring.LossNode, message.Step, e.Message));
            Context.Stop(Self);
        }
    }

    private void Compute(Forward forward, Pairing pairing)
    {
        if (_output is null || _output.Shape != forward.Activations.Shape)
        {
            _output?.Dispose();
            _output = _backend.Allocate(forward.Activations.Shape);
        }
        forward.Activations.CopyTo(_backend, _output);
        double loss = _loss.Compute(_output, forward.Activations.Dims[0] / 2, pairing.Negatives.AsSpan(), out var gradOutput);
        var message = new Backward(GraphWiring.LossNode, forward.Step, TensorPayload.From(gradOutput), SimTelemetry.Outgoing());
        _wiring.Check(GraphWiring.LossNode, _topName!, message.Kind);
        SimTelemetry.CountSend(GraphWiring.LossNode, _topName!, message.Kind, message.Bytes);
        _top!.Tell(message);
        _driver.Tell(new StepDone(GraphWiring.LossNode, forward.Step, loss));
    }

    protected override void PostStop()
    {
        _loss.Dispose();
        _output?.Dispose();
        base.PostStop();
    }
}
