using System.Collections.Immutable;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim.Distributed;

/// <summary>
/// Which cluster role hosts each node of a run. Nodes not named stay in the driver's process. The
/// input node and the monitor always do: the input holds the run's data source and clock, the monitor
/// its observer (online probe, alignment meter), both objects of the driver's process. Layers and the
/// backprop graph's loss node can live anywhere: a node builds itself from the spec and the seed.
/// </summary>
public sealed record Placement(ImmutableDictionary<string, string> RoleOf)
{
    /// <summary>The role of the process that drives a run (its input, monitor and unplaced nodes).</summary>
    public const string DriverRole = "driver";

    public static readonly Placement AllInDriver = new(ImmutableDictionary<string, string>.Empty);

    public string Of(string node) => RoleOf.GetValueOrDefault(node, DriverRole);

    public bool IsRemote(string node) => Of(node) != DriverRole;

    /// <summary>The roles other than the driver's, in order of first use.</summary>
    public IReadOnlyList<string> WorkerRoles => [.. RoleOf.Values.Where(r => r != DriverRole).Distinct().Order(StringComparer.Ordinal)];

    public IReadOnlyList<string> NodesOf(string role) => [.. RoleOf.Where(kv => kv.Value == role).Select(kv => kv.Key).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Parses "role=node,node;role=node" (e.g. "worker1=block1,block2;worker2=block3,loss"). Errors name
    /// the part that is wrong.
    /// </summary>
    public static Placement Parse(string text)
    {
        var roles = ImmutableDictionary.CreateBuilder<string, string>();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0 || eq == part.Length - 1)
                throw new ArgumentException($"Placement '{text}': '{part}' is not role=node[,node...].");
            string role = part[..eq].Trim();
            CheckRoleName(role, text);
            foreach (var node in part[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (roles.TryGetValue(node, out var other))
                    throw new ArgumentException($"Placement '{text}': node '{node}' is placed twice ({other} and {role}).");
                roles[node] = role;
            }
        }
        return new Placement(roles.ToImmutable());
    }

    /// <summary>The layers cut into <paramref name="workers"/> contiguous groups, worker1 .. workerN (the loss node with the top layer).</summary>
    public static Placement Split(NetworkSpec spec, GraphKind graph, int workers)
    {
        if (workers < 1) throw new ArgumentException($"--local-cluster {workers}: at least 1 worker process.");
        var layers = spec.Layers.Select(l => l.Name).ToList();
        if (workers > layers.Count) throw new ArgumentException($"{workers} workers for {layers.Count} layers: each worker needs at least one layer.");
        var roles = ImmutableDictionary.CreateBuilder<string, string>();
        for (int i = 0; i < layers.Count; i++) roles[layers[i]] = WorkerRole(i * workers / layers.Count + 1);
        if (graph == GraphKind.Backprop) roles[GraphWiring.LossNode] = roles[layers[^1]];
        return new Placement(roles.ToImmutable());
    }

    public static string WorkerRole(int index) => $"worker{index}";

    /// <summary>Checks every placed node against the nodes of a run of this spec and graph; the input and the monitor cannot move.</summary>
    public void Validate(NetworkSpec spec, GraphKind graph) =>
        Validate([.. Simulation.ComputeNodes(spec, graph), GraphWiring.InputNode, GraphWiring.MonitorNode]);

    private void Validate(IReadOnlyCollection<string> nodes)
    {
        foreach (var (node, role) in RoleOf)
        {
            if (role == DriverRole) continue;
            if (node is GraphWiring.InputNode or GraphWiring.MonitorNode)
                throw new ArgumentException($"Placement: '{node}' runs in the driver's process (it holds the run's {(node == GraphWiring.InputNode ? "data source and clock" : "observer")}); it cannot be placed on '{role}'.");
            if (!nodes.Contains(node))
                throw new ArgumentException($"Placement: '{node}' (placed on '{role}') is not a node of this run. Nodes: {string.Join(", ", nodes)}.");
        }
    }

    public static void CheckRoleName(string role, string where)
    {
        if (role.Length == 0 || !role.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"{where}: role '{role}' must be letters, digits, '-' or '_'.");
    }

    public override string ToString() =>
        RoleOf.Count == 0 ? "all in the driver" : string.Join("; ", RoleOf.GroupBy(kv => kv.Value).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}={string.Join(",", g.Select(kv => kv.Key).Order(StringComparer.Ordinal))}"));
}

/// <summary>
/// A run that spans processes: the driver's actor system (a cluster member), where each node lives, the
/// node host of each worker role, and what workers build their layers' backends with (the same device and
/// threads as the driver's own layers, so that a layer computes the same bits wherever it runs).
/// Spans of the workers go to traces.&lt;role&gt;.jsonl in <paramref name="TracesDirectory"/> when given.
/// </summary>
public sealed record ClusterRun(Akka.Actor.ActorSystem System, Placement Placement, IReadOnlyDictionary<string, Akka.Actor.IActorRef> Hosts,
    string? Device, int? Threads, string? TracesDirectory = null)
{
    /// <summary>How long a host may take to build its nodes (weights, rules and B matrices for a wide network).</summary>
    public TimeSpan HostTimeout { get; init; } = TimeSpan.FromMinutes(2);
}
