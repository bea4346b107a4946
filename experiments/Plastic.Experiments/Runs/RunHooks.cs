using Plastic.Sim;
using Plastic.Sim.Actors;
using Plastic.Sim.Distributed;
using Plastic.Topology;

namespace Plastic.Experiments.Runs;

/// <summary>Shows a run's progress while it trains (the command line's bars; plain lines by default) and hands on the parameters an online probe needs.</summary>
public interface IRunProgress : IRunObserver
{
    T Show<T>(Func<T> train);
}

/// <summary>Makes the progress display of a run: its compute nodes, steps, first step, batch, and the online probe's hook.</summary>
public delegate IRunProgress RunProgressFactory(IReadOnlyList<string> nodes, long steps, long firstStep, int batch,
    Action<long, IReadOnlyDictionary<string, Parameters>>? onParameters);

/// <summary>A cluster a run's nodes are placed on, alive while the run lasts.</summary>
public interface IClusterSession : IDisposable
{
    /// <summary>The cluster the next attempt of the run is placed on.</summary>
    ClusterRun Run { get; }

    /// <summary>Gives a lost worker's nodes a new host (a new process, or a live member of its role); throws when none comes in time.</summary>
    void Replace(WorkerLostException lost, Action<string> log);
}

/// <summary>How a run reaches a cluster (the command line's --cluster / --local-cluster): its placement and the session that hosts it.</summary>
public interface IClusterLauncher
{
    Placement PlacementFor(string? given, NetworkSpec network, GraphKind graph);

    IClusterSession Start(NetworkSpec network, GraphKind graph, int batch, bool snapshots, Placement placement, string? device, int? threads, string folder);
}
