using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;

namespace Plastic.Sim.Distributed;

/// <summary>
/// The driver's eye on the workers of a run: it follows cluster membership and tells the input node
/// (which ends the run) when a worker that hosts some of the run's nodes becomes unreachable or leaves.
/// Unreachable means no heartbeat for the failure detector's pause (3 s, <see cref="ClusterSettings"/>),
/// so a killed worker stops the run within seconds.
/// </summary>
public sealed class WorkerWatchActor : ReceiveActor
{
    private readonly ImmutableDictionary<Address, (string Role, ImmutableArray<string> Nodes)> _workers;
    private readonly IActorRef _input;
    private bool _reported;

    public WorkerWatchActor(ImmutableDictionary<Address, (string Role, ImmutableArray<string> Nodes)> workers, IActorRef input)
    {
        _workers = workers;
        _input = input;
        Receive<ClusterEvent.UnreachableMember>(m => Lost(m.Member.Address, "became unreachable (no heartbeat for 3 s: the process died, hung or lost its network)"));
        Receive<ClusterEvent.MemberRemoved>(m => Lost(m.Member.Address, "was removed from the cluster"));
        Receive<ClusterEvent.MemberExited>(m => Lost(m.Member.Address, "left the cluster"));
        Receive<ClusterEvent.MemberLeft>(m => Lost(m.Member.Address, "is leaving the cluster"));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(state =>
        {
            foreach (var m in state.Unreachable) Lost(m.Address, "is unreachable");
            foreach (var address in _workers.Keys.Where(a => !state.Members.Any(m => m.Address == a && m.Status == MemberStatus.Up)))
                Lost(address, "is not an Up member of the cluster");
        });
    }

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.UnreachableMember));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private void Lost(Address address, string how)
    {
        if (_reported || !_workers.TryGetValue(address, out var worker)) return;
        _reported = true;
        _input.Tell(new WorkerLost(worker.Role, address.ToString(), worker.Nodes, how));
    }
}
