using System.Collections.Immutable;
using Plastic.Sim.Actors;
using Plastic.Sim;
using Plastic.Sim.Distributed;
using Plastic.Topology;

namespace Plastic.Cli.Cluster;

/// <summary>
/// The driver's side of `plastic run --cluster seed` or `--local-cluster N`: joins (or forms) the cluster
/// with a frame limit sized for the spec, starts the local workers if asked, waits for a node host of every
/// role the placement names, replaces a worker the run loses, and takes it all down again when disposed.
/// </summary>
internal sealed class DriverCluster : Plastic.Experiments.Runs.IClusterSession
{
    private readonly ClusterMember _member;
    private readonly LocalCluster? _local;
    private readonly TimeSpan _recoverTimeout;

    private DriverCluster(ClusterMember member, LocalCluster? local, ClusterRun run, TimeSpan recoverTimeout)
    {
        _member = member;
        _local = local;
        _recoverTimeout = recoverTimeout;
        Run = run;
    }

    /// <summary>The cluster as the next attempt of the run finds it: after a lost worker's replacement, its new host.</summary>
    public ClusterRun Run { get; private set; }

    /// <summary>
    /// A worker of the run was lost: it is marked down (so the members can agree again and a new one can
    /// join), then its role goes to a new local worker process (--local-cluster) or to a live member of the
    /// same role, waiting up to the recover timeout for one to join (--cluster).
    /// </summary>
    public void Replace(WorkerLostException lost, Action<string> log)
    {
        var address = Akka.Actor.Address.Parse(lost.Address);
        Akka.Cluster.Cluster.Get(_member.System).Down(address);
        if (_local is not null) _local.Replace(lost.Node);
        else log($"waiting up to {_recoverTimeout.TotalSeconds:F0} s (--recover-timeout) for a live member of role '{lost.Node}' to take over {string.Join(", ", lost.Nodes)}");
        var hosts = _member.HostsAsync([lost.Node], _recoverTimeout, log, passOver: [address]).GetAwaiter().GetResult();
        Run = Run with { Hosts = Run.Hosts.ToImmutableDictionary().SetItem(lost.Node, hosts[lost.Node]) };
    }

    public IReadOnlyList<(string Role, System.Diagnostics.Process Process)> LocalWorkers => _local?.Workers ?? [];

    /// <summary>The placement a run uses: the one given, else (local cluster) the layers cut into one contiguous group per worker.</summary>
    public static Placement PlacementFor(string? given, NetworkSpec network, GraphKind graph, int? localWorkers, string? seed)
    {
        if (given is not null) return Placement.Parse(given);
        if (localWorkers is { } n) return Placement.Split(network, graph, n);
        throw new ArgumentException($"--cluster {seed}: say which role hosts which layers, with --placement (e.g. worker1=block1,block2;worker2=block3) or the run spec's 'placement'.");
    }

    public static DriverCluster Start(NetworkSpec network, GraphKind graph, int batch, bool snapshots, Placement placement, string? seed, int? localWorkers, string? device, int? threads, string folder, string host,
        TimeSpan recoverTimeout, int lanePort = 0)
    {
        if (seed is not null && localWorkers is not null) throw new ArgumentException("Give --cluster <seed> or --local-cluster <N>, not both.");
        // Checked before any process starts (the run checks it again).
        placement.Validate(network, graph);
        if (localWorkers is < 1) throw new ArgumentException($"--local-cluster {localWorkers}: at least 1 worker process.");
        if (localWorkers is { } n && placement.WorkerRoles.Except(Enumerable.Range(1, n).Select(Placement.WorkerRole)).FirstOrDefault() is { } unknown)
            throw new ArgumentException($"Placement names role '{unknown}', but --local-cluster {n} starts worker1 .. worker{n}.");
        // The spec's largest message, or a bit more for small specs: the floor of 4 MiB costs nothing.
        long largest = RemoteFrames.LargestMessageBytes(network, batch, snapshots);
        long frame = Math.Max(largest, 4L << 20);
        if (localWorkers is not null && host != "127.0.0.1") throw new ArgumentException($"--local-cluster runs on 127.0.0.1; --cluster-host {host} is for --cluster.");
        var member = ClusterMember.JoinAsync(new ClusterSettings(host, 0, seed, Placement.DriverRole, frame) { LanePort = lanePort }, TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        LocalCluster? local = null;
        try
        {
            if (localWorkers is { } count) local = LocalCluster.Start(count, member.HostAndPort, frame);
            string lane = Plastic.Sim.Distributed.Lanes.TensorLanes.Of(member.System).Describe();
            Console.WriteLine($"cluster: driver at {member.HostAndPort} ({lane}), frame limit {frame:N0} bytes (the spec's largest message: at most {largest:N0}), placement {placement}");
            var hosts = member.HostsAsync(placement.WorkerRoles, TimeSpan.FromSeconds(90), Console.WriteLine).GetAwaiter().GetResult();
            return new DriverCluster(member, local, new ClusterRun(member.System, placement, hosts, device, threads, folder), recoverTimeout);
        }
        catch
        {
            local?.Dispose();
            member.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
            throw;
        }
    }

    public void Dispose()
    {
        // Local workers leave first, each removed by the driver (it exits on its removal), so nobody sees
        // a member vanish; then the driver leaves; a worker still there after that is killed.
        // With a member unreachable (a worker died) no leave can complete (the cluster cannot agree on
        // anything without it): the local workers are killed at once instead.
        var cluster = Akka.Cluster.Cluster.Get(_member.System);
        bool healthy = cluster.State.Unreachable.Count == 0;
        if (_local is not null && healthy)
        {
            foreach (var m in cluster.State.Members.Where(m => !m.HasRole(Placement.DriverRole))) cluster.Leave(m.Address);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            foreach (var (_, process) in _local.Workers) process.WaitForExit(Math.Max(0, (int)(deadline - DateTime.UtcNow).TotalMilliseconds));
        }
        _local?.Dispose();
        if (healthy)
        {
            _member.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
            return;
        }
        // Marking the lost members down lets the driver's own leave complete at once, instead of waiting
        // out the shutdown's timeouts for a cluster that cannot agree.
        foreach (var m in cluster.State.Unreachable.Concat(_local is null ? [] : cluster.State.Members.Where(m => !m.HasRole(Placement.DriverRole))))
            cluster.Down(m.Address);
        _member.System.Terminate().Wait(TimeSpan.FromSeconds(10));
    }
}

/// <summary>The command line's --cluster / --local-cluster choices as the engine's way to reach a cluster.</summary>
internal sealed class DriverClusterLauncher(string? seed, int? localWorkers, string host, TimeSpan recoverTimeout, int lanePort = 0) : Plastic.Experiments.Runs.IClusterLauncher
{
    public Placement PlacementFor(string? given, NetworkSpec network, GraphKind graph) => DriverCluster.PlacementFor(given, network, graph, localWorkers, seed);

    public Plastic.Experiments.Runs.IClusterSession Start(NetworkSpec network, GraphKind graph, int batch, bool snapshots, Placement placement, string? device, int? threads, string folder) =>
        DriverCluster.Start(network, graph, batch, snapshots, placement, seed, localWorkers, device, threads, folder, host, recoverTimeout, lanePort);
}
