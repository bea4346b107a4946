using Akka.Actor;
using Plastic.Compute;
using Plastic.Rules;
using Plastic.Sim.Protocol;
using Plastic.Sim.Schedule;
using Plastic.Sim.Tracing;

namespace Plastic.Sim.Actors;

/// <summary>
/// The top of the backprop graph: the loss of the top layer's output (BP-CLAPP++, the same hinge loss
/// and B as CLAPP++ but at the top only; or BP-InfoNCE). For each step it needs the top layer's
/// Forward and the input's Pairing, then sends Backward(step, dL/d top output) down.
/// </summary>
public sealed class LossActor : ReceiveActor
{
    private readonly ITopLoss _loss;
    private readonly IActorRef _driver;
    private readonly Dictionary<long, Forward> _forwards = [];
    private readonly Dictionary<long, Pairing> _pairings = [];
    private readonly Inbox _inbox;
    private readonly Outbox _outbox;
    private readonly TensorSlot _output;
    private readonly CheckpointPlan? _checkpoints;
    private readonly IComputeBackend _backend;

    /// <param name="checkpoints">Where the loss writes its trained parameters (B or the projection, with their AdamW moments) at checkpoint steps.</param>
    /// <param name="resumeFile">The checkpoint file to start from, when the run resumes.</param>
    public LossActor(IComputeBackend backend, ITopLoss loss, Wiring wiring, IActorRef driver, ISendPolicy? sends = null, CheckpointPlan? checkpoints = null, string? resumeFile = null)
    {
        _loss = loss;
        _backend = backend;
        _checkpoints = checkpoints;
        string? startFailure = resumeFile is not null ? NodeStart.Try(() => Checkpoints.LayerCheckpoint.Load(resumeFile, backend, [], loss.CheckpointState)) : null;
        _driver = driver;
        _inbox = new Inbox(GraphWiring.LossNode, wiring, driver);
        _outbox = new Outbox(GraphWiring.LossNode, wiring, sends);
        _output = new TensorSlot(backend, TensorKind.Activations); // the top layer's output, kept for the loss's backward pass
        Receive<Connect>(c =>
        {
            if (startFailure is not null)
            {
                _driver.Tell(new NodeFailed(GraphWiring.LossNode, -1, startFailure));
                return;
            }
            _outbox.Connect(c);
            _inbox.Connected(Context);
        });
        Receive<ISimMessage>(Handle);
    }

    private void Handle(ISimMessage message) => _inbox.Handle(message, () =>
    {
        switch (message)
        {
            case Forward f: _forwards[f.Step] = f; break;
            case Pairing p: _pairings[p.Step] = p; break;
            default: throw new InvalidOperationException($"The loss node does not use {message.Kind} messages.");
        }
        long step = message.Step;
        if (_forwards.TryGetValue(step, out var forward) && _pairings.TryGetValue(step, out var pairing))
        {
            _forwards.Remove(step);
            _pairings.Remove(step);
            Compute(forward, pairing);
        }
    }, Context);

    private void Compute(Forward forward, Pairing pairing)
    {
        using var phase = SimTelemetry.StartPhase(GraphWiring.LossNode, StepSchedule.Loss, forward.Step, _backend);
        var output = _output.Load(forward.Activations);
        double loss = _loss.Compute(output, forward.Activations.Dims[0] / 2, pairing.Negatives.AsSpan(), out var gradOutput, forward.Step);
        if (!double.IsFinite(loss)) throw new DivergedException($"diverged: the {_loss.Name} loss is {loss}; lower the learning rate");
        _outbox.SendToAll(new Backward(GraphWiring.LossNode, forward.Step, _outbox.Payload(MessageKind.Backward, gradOutput), SimTelemetry.Outgoing()));
        if (_checkpoints is { } plan && plan.IsCheckpoint(forward.Step))
            Checkpoints.LayerCheckpoint.Write(Path.Combine(Checkpoints.LayerCheckpoint.FolderOf(plan.Directory, forward.Step), $"{GraphWiring.LossNode}.npz"), [], _loss.CheckpointState);
        _driver.Tell(new StepDone(GraphWiring.LossNode, forward.Step, loss));
    }

    protected override void PostStop()
    {
        _loss.Dispose();
        _output.Dispose();
        base.PostStop();
    }
}
