using System.Collections.Immutable;
using Akka.Actor;
using Plastic.Sim.Actors;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Distributed;

/// <summary>
/// A run's post in a cluster worker: the fewer messages cross processes, the fewer threads each step wakes in
/// the transport of both processes (a two-worker quickstart run sent 15 messages a step across processes, 12
/// of them pairings and reports of a few bytes). Two things go through it:
/// - the nodes hosted here report to it, not to the driver: it sends the driver one <see cref="StepsDone"/>
///   a step, once every one of them has finished that step (the driver needs all reports of a step before it
///   counts it finished, so the run's clock waits no longer; a layer's loss reaches the driver's progress and
///   metrics with the slowest layer of its worker); any other message for the driver (a failure) goes on at once;
/// - a message without tensors that the driver sends to several nodes here (the pairing) comes once, as a
///   <see cref="Fanout"/>, and is handed to each of them. It is the sender's message, checked against the
///   wiring at the sender and again by each receiving node: the post only carries it.
/// One post a run and worker, stopped with the run's nodes.
/// </summary>
public sealed class RunPost : ReceiveActor
{
    private readonly Dictionary<long, List<StepDone>> _pending = [];
    private readonly IActorRef _driver;
    private readonly string _role;
    private ImmutableDictionary<string, IActorRef> _nodes = ImmutableDictionary<string, IActorRef>.Empty;

    /// <param name="driver">The run's input node, which counts the reports.</param>
    /// <param name="reporters">How many of the nodes hosted here report each step (all of them).</param>
    /// <param name="role">The worker's role, for the error should the post fail.</param>
    public RunPost(IActorRef driver, int reporters, string role)
    {
        _driver = driver;
        _role = role;
        Receive<Hosted>(h => _nodes = h.Nodes);
        Receive<Fanout>(f =>
        {
            foreach (var name in f.Targets)
            {
                if (_nodes.TryGetValue(name, out var node)) node.Tell(f.Message);
                else _driver.Tell(new NodeFailed(name, f.Message.Step, $"a {f.Message.Kind} for it reached the run's post on a worker that does not host it (hosted: {string.Join(", ", _nodes.Keys.Order())})"));
            }
        });
        Receive<StepDone>(d =>
        {
            if (!_pending.TryGetValue(d.Step, out var reports)) _pending[d.Step] = reports = [];
            reports.Add(d);
            if (reports.Count < reporters) return;
            _pending.Remove(d.Step);
            _driver.Tell(new StepsDone([.. reports]));
        });
        ReceiveAny(m => _driver.Forward(m));
    }

    /// <summary>
    /// A restarted post would have lost the reports it held and the nodes it hands fanouts to, and the driver would
    /// wait for those reports forever: the run stops instead, naming the worker (a recoverable fault with checkpoints).
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        _driver.Tell(new NodeFailed(_role, -1, $"the run's post on worker '{_role}' failed ({reason.Message}); the reports it held are lost"));
        base.PreRestart(reason, message);
    }

    protected override void PostRestart(Exception reason) => Context.Stop(Self);

    /// <summary>The nodes of the run hosted in this process, by name, told by the host once it started them.</summary>
    public sealed record Hosted(ImmutableDictionary<string, IActorRef> Nodes);
}

/// <summary>
/// One message for several nodes of one process, sent to that process's <see cref="RunPost"/>: it crosses once
/// and is handed to each target there. Only for messages without tensors (a tensor's payload is read once).
/// </summary>
public sealed record Fanout(ImmutableArray<string> Targets, ISimMessage Message)
{
    public bool Equals(Fanout? other) => other is not null && Targets.SequenceEqual(other.Targets) && Equals(Message, other.Message);

    public override int GetHashCode() => HashCode.Combine(Targets.Length, Message);
}
