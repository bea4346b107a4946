using System.CommandLine;
using Plastic.Sim;
using Plastic.Sim.Protocol;
using Plastic.Sim.Schedule;
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
        // Every local rule is checked before anything is printed (a backprop baseline names the graph's top loss).
        foreach (var layer in spec.Layers.Where(l => !spec.RuleOf(l).StartsWith("bp-", StringComparison.Ordinal)))
            Plastic.Rules.Catalogue.RuleCatalogue.Check(spec.RuleOf(layer), layer.Name);
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
        if (spec.Layers.Any(l => spec.RuleOf(l).StartsWith("bp-", StringComparison.Ordinal)))
            Console.WriteLine($"{Environment.NewLine}local graph: none (a backprop baseline's rule names the loss at the top of the backprop graph)");
        else
            PrintSchedule("local graph, pipelined", StepSchedule.Derive(spec, GraphKind.Local), ScheduleOptions.PipelinedInFlight);
        PrintSchedule("backprop graph, one step at a time", StepSchedule.Derive(spec, GraphKind.Backprop), ScheduleOptions.Sequential.MaxInFlight);
    }

    /// <summary>
    /// The phases of a step t, derived from the graph's wiring and what each layer's rule (from the rule
    /// catalogue) declares it needs; the actors run these phases and trace each under its name.
    /// </summary>
    private static void PrintSchedule(string title, StepSchedule schedule, int maxInFlight)
    {
        Console.WriteLine();
        Console.WriteLine($"schedule of a step t ({title}):");
        foreach (var line in schedule.Describe(maxInFlight)) Console.WriteLine(line);
    }

    private static void PrintGraph(string title, Wiring wiring)
    {
        Console.WriteLine();
        Console.WriteLine($"{title}:");
        foreach (var e in wiring.Edges.OrderBy(e => e.Allows.Min()).ThenBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal))
            Console.WriteLine($"  {e.From,-10} -> {e.To,-10} {string.Join(", ", e.Allows.Order())}");
    }
}
