using Akka.Actor;
using Plastic.Sim.Protocol;
using Plastic.Sim.Tracing;

namespace Plastic.Sim.Actors;

/// <summary>
/// The input node and the run's clock: it sends each step's two views up to layer 1 and broadcasts
/// the step's pairing, keeping at most MaxInFlight steps unfinished (backpressure: no mailbox can
/// grow without bound). A step is finished when every layer has reported it.
/// </summary>
public sealed class InputActor : ReceiveActor
{
    private readonly IBatchSource _source;
    private readonly int _layers;
    private readonly long _steps;
    private readonly int _maxInFlight;
    private readonly Action<StepDone> _onStepDone;
    private readonly TaskCompletionSource _finished;
    private readonly Dictionary<long, int> _reports = [];
    private readonly Outbox _outbox;
    private long _sent, _completed;
    private readonly Action<SimulationException>? _onLateFailure;
    private readonly Dictionary<IActorRef, string> _watched = [];

    public InputActor(IBatchSource source, Wiring wiring, int layers, long steps, int maxInFlight, Action<StepDone> onStepDone, TaskCompletionSource finished,
        long firstStep = 0, Action<SimulationException>? onLateFailure = null, ISendPolicy? sends = null)
    {
        _onLateFailure = onLateFailure;
        // A resumed run starts at the step after its checkpoint; earlier steps count as completed.
        _sent = _completed = firstStep;
        _source = source;
        _layers = layers;
        _steps = steps;
        _maxInFlight = Math.Max(1, maxInFlight);
        _onStepDone = onStepDone;
        _finished = finished;
        _outbox = new Outbox(GraphWiring.InputNode, wiring, sends);

        Receive<Connect>(c =>
        {
            _outbox.Connect(c);
            // A node of this process that stops before the run ends (its actor failed outside a step) would
            // leave the run waiting for its reports: it is watched, and its end stops the run. A worker's
            // nodes are watched through their worker (WorkerLost).
            foreach (var (name, node) in c.Nodes.Where(n => !n.Value.Equals(Self) && n.Value.Path.Address.HasLocalScope))
            {
                _watched[node] = name;
                Context.Watch(node);
            }
            if (_completed >= _steps) _finished.TrySetResult();
            Pump();
        });
        Receive<StepDone>(d => Reported([d]));
        // A cluster worker's post sends the reports of a step from all the nodes it hosts at once.
        Receive<StepsDone>(b => Reported(b.Reports));
        Receive<Distributed.WorkerLost>(w =>
        {
            // Steps below _completed are done by every node; the lost worker's nodes did none after.
            var failure = new WorkerLostException(w.Role, w.Address, w.Nodes, w.How, _completed - 1);
            _finished.TrySetException(failure);
            _onLateFailure?.Invoke(failure);
        });
        // Terminated is a system message and overtakes the user messages queued before it: a node that failed
        // in a step told this actor why (NodeFailed) before it stopped, so its end is looked at after those.
        Receive<Terminated>(t =>
        {
            if (_watched.TryGetValue(t.ActorRef, out var name)) Self.Tell(new NodeGone(name));
        });
        Receive<NodeGone>(g =>
        {
            if (_finished.Task.IsCompleted) return;
            string name = g.Node;
            var failure = new SimulationException(name, _completed, "the node stopped before the run ended (its actor failed outside a step; the log above says why)");
            _finished.TrySetException(failure);
            _onLateFailure?.Invoke(failure);
        });
        Receive<NodeFailed>(f =>
        {
            var failure = new SimulationException(f.Node, f.Step, f.Reason);
            _finished.TrySetException(failure);
            // A node may fail after the last step finished (the alignment monitor lags behind the layers).
            _onLateFailure?.Invoke(failure);
        });
    }

    private sealed record NodeGone(string Node);

    private void Reported(IEnumerable<StepDone> reports)
    {
        foreach (var d in reports)
        {
            _onStepDone(d);
            _reports[d.Step] = _reports.GetValueOrDefault(d.Step) + 1;
        }
        while (_reports.GetValueOrDefault(_completed) == _layers) _reports.Remove(_completed++);
        if (_completed == _steps) _finished.TrySetResult();
        else Pump();
    }

    private void Pump()
    {
        while (_sent < _steps && _sent - _completed < _maxInFlight)
        {
            long step = _sent++;
            try
            {
                var batch = _source.Batch(step);
                using var span = SimTelemetry.StartStep(step);
                _outbox.SendToAll(new Pairing(GraphWiring.InputNode, step, batch.Negatives, SimTelemetry.Outgoing()));
                _outbox.SendToAll(new Forward(GraphWiring.InputNode, step, batch.Views, SimTelemetry.Outgoing()));
            }
            catch (Distributed.RemoteFrameTooLargeException e)
            {
                // The input is the run's clock: a step it cannot send stops the run, it does not restart the actor.
                _sent = _steps;
                _finished.TrySetException(new SimulationException(GraphWiring.InputNode, step, e.Message));
                return;
            }
        }
    }
}

/// <summary>A run stopped because a node failed: names the node, the step and the reason.</summary>
public class SimulationException : Exception
{
    public SimulationException(string node, long step, string reason) : this(node, step, $"Node '{node}' failed at step {step}: {reason}", 0) { }

    protected SimulationException(string node, long step, string message, int _) : base(message)
    {
        Node = node;
        Step = step;
    }

    public string Node { get; }
    public long Step { get; }

    /// <summary>The node failed because a loss or gradient stopped being finite (a replay would fail the same way).</summary>
    public bool Diverged => Message.Contains(DivergedException.Marker, StringComparison.Ordinal);
}

/// <summary>
/// A run stopped because a cluster worker that hosted some of its nodes was lost. Node is the worker's
/// role, Step the last step every node completed (-1: none).
/// </summary>
public sealed class WorkerLostException(string role, string address, IReadOnlyList<string> nodes, string how, long lastCompletedStep)
    : SimulationException(role, lastCompletedStep,
        $"Worker '{role}' ({address}) hosting {string.Join(", ", nodes)} {how}; " +
        (lastCompletedStep >= 0 ? $"the last step every node completed is {lastCompletedStep}." : "no step was completed by every node."), 0)
{
    public IReadOnlyList<string> Nodes { get; } = nodes;

    /// <summary>The lost worker's actor-system address (akka.tcp://plastic@host:port).</summary>
    public string Address { get; } = address;
}
