using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;

namespace Plastic.Sim.Distributed;

/// <summary>
/// A process's membership in a run's cluster: its actor system, started from <see cref="ClusterSettings"/>.
/// A driver finds the node hosts of the worker roles it needs; a worker runs a <see cref="NodeHostActor"/>.
/// </summary>
public sealed class ClusterMember : IAsyncDisposable
{
    private ClusterMember(ActorSystem system) => System = system;

    public ActorSystem System { get; }

    public Address Address => Cluster.Get(System).SelfAddress;

    /// <summary>"host:port" of this member, what workers pass as their seed.</summary>
    public string HostAndPort => $"{Address.Host}:{Address.Port}";

    /// <summary>Starts the actor system and joins the cluster (or forms it, without a seed); returns once this member is Up.</summary>
    public static async Task<ClusterMember> JoinAsync(ClusterSettings settings, TimeSpan timeout)
    {
        var system = ActorSystem.Create(ClusterSettings.SystemName, settings.ToConfig());
        try
        {
            Lanes.TensorLanes.Of(system).Open();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            await system.Terminate().ConfigureAwait(false);
            throw new InvalidOperationException($"Could not open this process's tensor lane on {settings.Host}:{settings.LanePort}: {e.Message}. " +
                "Give another lane port (0: any free one), or turn lanes off with PLASTIC_LANES=off.", e);
        }
        var cluster = Cluster.Get(system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        if (settings.Seed is null) cluster.Join(cluster.SelfAddress);
        if (await Task.WhenAny(up.Task, Task.Delay(timeout)).ConfigureAwait(false) != up.Task)
        {
            await system.Terminate().ConfigureAwait(false);
            throw new TimeoutException(settings.Seed is null
                ? $"Could not form a cluster at {settings.Host} within {timeout.TotalSeconds:F0} s."
                : $"Could not join the cluster through the seed {settings.Seed} within {timeout.TotalSeconds:F0} s: is a driver or node running there, with the same system name '{ClusterSettings.SystemName}'?");
        }
        return new ClusterMember(system);
    }

    /// <summary>Starts this member's node host (a worker's one job).</summary>
    public IActorRef StartHost(string role, Func<string, IDisposable?>? startTracing = null) =>
        System.ActorOf(Props.Create(() => new NodeHostActor(role, startTracing)), NodeHostActor.ActorName);

    /// <summary>
    /// Waits until every role has an Up member, then resolves each one's node host. The first member of a
    /// role (by address) serves it; members that are unreachable, or in <paramref name="passOver"/> (a worker
    /// just lost), do not. Progress goes to <paramref name="log"/> while it waits.
    /// </summary>
    public async Task<ImmutableDictionary<string, IActorRef>> HostsAsync(IReadOnlyCollection<string> roles, TimeSpan timeout, Action<string>? log = null,
        IReadOnlyCollection<Address>? passOver = null)
    {
        var cluster = Cluster.Get(System);
        var deadline = DateTime.UtcNow + timeout;
        var hosts = ImmutableDictionary.CreateBuilder<string, IActorRef>();
        var missing = new List<string>(roles);
        DateTime nextLog = DateTime.UtcNow;
        while (missing.Count > 0)
        {
            foreach (var role in missing.ToList())
            {
                var member = cluster.State.Members.Where(m => m.Status == MemberStatus.Up && m.HasRole(role)
                    && !cluster.State.Unreachable.Contains(m) && passOver?.Contains(m.Address) != true).OrderBy(m => m.Address.ToString(), StringComparer.Ordinal).FirstOrDefault();
                if (member is null) continue;
                var selection = System.ActorSelection(new RootActorPath(member.Address) / "user" / NodeHostActor.ActorName);
                try
                {
                    hosts[role] = await selection.ResolveOne(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                    missing.Remove(role);
                }
                catch (ActorNotFoundException)
                {
                    // The member is up but its host is not started yet: ask again below.
                }
            }
            if (missing.Count == 0) break;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"No node host for role(s) {string.Join(", ", missing)} within {timeout.TotalSeconds:F0} s. Members now: " +
                    string.Join(", ", cluster.State.Members.Select(m => $"{m.Address} [{string.Join(",", m.Roles)}] {m.Status}")) +
                    $". Start one with: plastic node --role {missing[0]} --seed {HostAndPort}");
            if (DateTime.UtcNow >= nextLog)
            {
                log?.Invoke($"waiting for worker role(s) {string.Join(", ", missing)} to join through {HostAndPort}");
                nextLog = DateTime.UtcNow.AddSeconds(5);
            }
            await Task.Delay(200).ConfigureAwait(false);
        }
        return hosts.ToImmutable();
    }

    /// <summary>Leaves the cluster gracefully (others see it leave, not die), then stops the actor system.</summary>
    public async ValueTask DisposeAsync()
    {
        var cluster = Cluster.Get(System);
        if (!cluster.IsTerminated && cluster.State.Members.Count > 1)
        {
            var removed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cluster.RegisterOnMemberRemoved(() => removed.TrySetResult());
            cluster.Leave(cluster.SelfAddress);
            await Task.WhenAny(removed.Task, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        }
        await System.Terminate().ConfigureAwait(false);
    }
}
