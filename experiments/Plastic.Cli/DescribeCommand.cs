using System.CommandLine;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Cli;

/// <summary>`plastic describe &lt;spec.json | preset&gt;`: the layers with their shapes, rules and sizes, and the edges.</summary>
public static class DescribeCommand
{
    public static Command Build()
    {
        var spec = new Argument<string>("spec") { Description = $"A network spec file (JSON) or a preset: {string.Join(", ", Presets.Names)}." };
        var command = new Command("describe", "Print a network: layers, shapes, loss features, parameters and edges.") { spec };
        command.SetAction(parse =>
        {
            Print(Resolve(parse.GetValue(spec)!));
            return 0;
        });
        return command;
    }

    /// <summary>A path to an existing file is a spec file; anything else must be a preset name.</summary>
    public static NetworkSpec Resolve(string specOrPreset) => Plastic.Experiments.NetworkResolver.Resolve(specOrPreset);

    private static void Print(NetworkSpec spec)
    {
        var shapes = NetworkValidator.Validate(spec);
        Console.WriteLine($"network {spec.Name}: input {spec.Input}, default rule {spec.Rule}");
        Console.WriteLine();
        Console.WriteLine($"{"#",2} {"layer",-10} {"kind",-6} {"rule",-12} {"input",-12} {"activation",-12} {"output",-12} {"loss pool",9} {"loss features",-18} {"parameters",12}");
        for (int i = 0; i < shapes.Count; i++)
        {
            var s = shapes[i];
            var l = s.Layer;
            string kind = l.Kind == LayerKind.Conv ? $"conv{l.Kernel}" : "linear";
            string pool = l.LossPool is { } k ? $"{k}x{k}" : "-";
            string lossFeatures = $"{s.LossFeatures} ({s.LossFeatures.Size})";
            Console.WriteLine($"{i + 1,2} {l.Name,-10} {kind,-6} {spec.RuleOf(l),-12} {s.Input,-12} {s.Activation,-12} {s.Output,-12} {pool,9} {lossFeatures,-18} {s.Weights,12:N0}");
        }
        Console.WriteLine($"{"",2} {"total",-10} {"",-6} {"",-12} {"",-12} {"",-12} {"",-12} {"",9} {shapes.Sum(s => s.LossFeatures.Size),-18} {shapes.Sum(s => s.Weights),12:N0}");
        Console.WriteLine();
        Console.WriteLine("edges of the spec:");
        foreach (var e in spec.Edges())
            Console.WriteLine($"  {e.From,-10} -> {e.To,-10} {(e.Kind == EdgeKind.Forward ? "forward" : "direct-feedback (top-down reference)")}");
        PrintGraph("local graph (actors: input, one per layer); each edge carries only these message kinds", GraphWiring.Local(spec));
        PrintGraph("backprop graph (actors: input, one per layer, loss)", GraphWiring.Backprop(spec));
        Console.WriteLine();
        PrintPhases("local graph", GraphWiring.Local(spec), spec);
        PrintPhases("backprop graph, one step at a time", GraphWiring.Backprop(spec), spec);
        Console.WriteLine("  the input sends step t+k when at most k-1 steps are unfinished (k = steps in flight: 4 pipelined, 1 sequential and backprop)");
    }

    /// <summary>
    /// What each node of a graph waits for at step t and what it sends, read off the graph's wiring (the
    /// declared edges and the message kinds they carry). A rule that declares no need of an arriving signal
    /// (a pairing for goodness rules) lets its layer go on without it.
    /// </summary>
    private static void PrintPhases(string title, Wiring wiring, NetworkSpec spec)
    {
        Console.WriteLine();
        Console.WriteLine($"phases of a step t ({title}), from its wiring:");
        var order = new[] { GraphWiring.InputNode }.Concat(spec.Layers.Select(l => l.Name)).Append(GraphWiring.LossNode).ToList();
        string Kinds(IEnumerable<EdgeContract> edges, Func<EdgeContract, string> peer) =>
            string.Join("; ", edges.SelectMany(e => e.Allows.Where(k => k != MessageKind.Snapshot).Select(k => (Kind: k, Peer: peer(e))))
                .GroupBy(x => x.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key}(t) {string.Join(", ", g.Select(x => x.Peer).Order(StringComparer.Ordinal))}"));
        foreach (var node in order)
        {
            var incoming = wiring.Edges.Where(e => e.To == node).ToList();
            var outgoing = wiring.Edges.Where(e => e.From == node && e.To != GraphWiring.MonitorNode).ToList();
            if (incoming.Count == 0 && outgoing.Count == 0) continue;
            Console.WriteLine($"  {node,-10} receives {(incoming.Count == 0 ? "nothing (it starts the step)" : Kinds(incoming, e => "from " + e.From))}");
            Console.WriteLine($"  {"",-10} sends    {(outgoing.Count == 0 ? "nothing" : Kinds(outgoing, e => "to " + e.To))}");
        }
        Console.WriteLine(title.StartsWith("local")
            ? "  a layer forwards as soon as Forward(t) is there (sending Forward(t) up and, if feedback edges leave it, TopDownReference(t) down), then updates its own weights once the signals its rule declares for t are there (Pairing, TopDownReference) and reports StepDone(t); step t+1's forward waits for step t's update"
            : "  a layer forwards on Forward(t); the loss node answers the top layer's Forward(t) with Backward(t); a layer that receives Backward(t) steps its optimiser, sends Backward(t) down and reports StepDone(t)");
    }

    private static void PrintGraph(string title, Wiring wiring)
    {
        Console.WriteLine();
        Console.WriteLine($"{title}:");
        foreach (var e in wiring.Edges.OrderBy(e => e.Allows.Min()).ThenBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal))
            Console.WriteLine($"  {e.From,-10} -> {e.To,-10} {string.Join(", ", e.Allows.Order())}");
    }
}
