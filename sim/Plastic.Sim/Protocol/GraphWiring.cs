using System.Collections.Immutable;
using Plastic.Topology;

namespace Plastic.Sim.Protocol;

/// <summary>
/// The edges, and what each may carry, of the two graphs built from one network spec. The node
/// "input" feeds minibatches and broadcasts the step's pairing; "loss" is the backprop graph's top.
/// </summary>
public static class GraphWiring
{
    public const string InputNode = "input";
    public const string LossNode = "loss";
    /// <summary>The monitor: an instrument that receives parameter snapshots (for alignment and online probes) and sends nothing.</summary>
    public const string MonitorNode = "monitor";

    private static ImmutableHashSet<MessageKind> Only(params MessageKind[] kinds) => [.. kinds];

    /// <summary>
    /// Local learning: activations go up the chain, the pairing is broadcast from the input to every
    /// layer, top-down references travel only on declared feedback edges. No edge carries gradients.
    /// With <paramref name="monitored"/>, every layer also has an instrument edge to the monitor.
    /// </summary>
    public static Wiring Local(NetworkSpec spec, bool monitored = false)
    {
        var edges = new List<EdgeContract> { new(InputNode, spec.Layers[0].Name, Only(MessageKind.Forward)) };
        edges.AddRange(spec.Layers.Select(l => new EdgeContract(InputNode, l.Name, Only(MessageKind.Pairing))));
        for (int i = 1; i < spec.Layers.Count; i++)
            edges.Add(new EdgeContract(spec.Layers[i - 1].Name, spec.Layers[i].Name, Only(MessageKind.Forward)));
        edges.AddRange(spec.Feedback.Select(e => new EdgeContract(e.From, e.To, Only(MessageKind.TopDownReference))));
        if (monitored) edges.AddRange(MonitorEdges(spec));
        return new Wiring(edges);
    }

    private static IEnumerable<EdgeContract> MonitorEdges(NetworkSpec spec) =>
        spec.Layers.Select(l => new EdgeContract(l.Name, MonitorNode, Only(MessageKind.Snapshot)));

    /// <summary>
    /// Global backprop: activations go up to a loss node, which also receives the pairing; gradients
    /// come back down the same chain, one edge at a time. With <paramref name="monitored"/>, every layer
    /// also has an instrument edge to the monitor (for online probes).
    /// </summary>
    public static Wiring Backprop(NetworkSpec spec, bool monitored = false)
    {
        var layers = spec.Layers.Select(l => l.Name).ToList();
        var edges = new List<EdgeContract>
        {
            new(InputNode, layers[0], Only(MessageKind.Forward)),
            new(InputNode, LossNode, Only(MessageKind.Pairing)),
            new(layers[^1], LossNode, Only(MessageKind.Forward)),
            new(LossNode, layers[^1], Only(MessageKind.Backward)),
        };
        for (int i = 1; i < layers.Count; i++)
        {
            edges.Add(new EdgeContract(layers[i - 1], layers[i], Only(MessageKind.Forward)));
            edges.Add(new EdgeContract(layers[i], layers[i - 1], Only(MessageKind.Backward)));
        }
        if (monitored) edges.AddRange(MonitorEdges(spec));
        return new Wiring(edges);
    }
}
