using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim.Schedule;

/// <summary>A message of step t a phase waits for: its kind and the node it comes from.</summary>
public sealed record PhaseWait(MessageKind Kind, string From)
{
    public override string ToString() => $"{Kind}(t) from {From}";
}

/// <summary>
/// One phase of a step at one node: what it waits for (messages of the same step t, and the node's
/// previous phase), what it sends, and whether it reports the step done.
/// </summary>
public sealed record SchedulePhase(string Node, string Phase, IReadOnlyList<PhaseWait> Waits, string? After, IReadOnlyList<(MessageKind Kind, string To)> Sends, bool ReportsDone);

/// <summary>
/// The phases of one step of a graph, derived from its wiring and what each layer's rule declares it needs
/// (the rule catalogue's, or the caller's): who waits for what. The actors run exactly these phases, each
/// under a span named after it (see <see cref="Tracing.SimTelemetry.StartPhase"/>), so a trace can be
/// checked against this.
/// </summary>
public sealed record StepSchedule(GraphKind Graph, IReadOnlyList<SchedulePhase> Phases)
{
    /// <summary>Phase names as the spans carry them.</summary>
    public const string Forward = "forward", Update = "update", Loss = "loss", Backward = "backward";

    public static StepSchedule Derive(NetworkSpec spec, GraphKind graph, RuleFactory? rules = null) =>
        graph == GraphKind.Local ? Local(spec, rules ?? Simulation.DefaultRule) : Backprop(spec);

    private static StepSchedule Local(NetworkSpec spec, RuleFactory rules)
    {
        var wiring = GraphWiring.Local(spec);
        var needs = RuleNeeds(spec, rules);
        var phases = new List<SchedulePhase>();
        foreach (var layer in spec.Layers.Select(l => l.Name))
        {
            var forwardFrom = wiring.Edges.Single(e => e.To == layer && e.Allows.Contains(MessageKind.Forward)).From;
            phases.Add(new SchedulePhase(layer, Forward, [new PhaseWait(MessageKind.Forward, forwardFrom)], $"{Update}(t-1)",
                [.. SendsOf(wiring, layer, MessageKind.Forward), .. SendsOf(wiring, layer, MessageKind.TopDownReference)], ReportsDone: false));
            var waits = new List<PhaseWait>();
            if (needs[layer].HasFlag(RuleSignals.Pairing)) waits.Add(new PhaseWait(MessageKind.Pairing, GraphWiring.InputNode));
            if (needs[layer].HasFlag(RuleSignals.TopDownReference))
                waits.AddRange(wiring.Edges.Where(e => e.To == layer && e.Allows.Contains(MessageKind.TopDownReference)).Select(e => new PhaseWait(MessageKind.TopDownReference, e.From)));
            phases.Add(new SchedulePhase(layer, Update, waits, $"{Forward}(t)", [], ReportsDone: true));
        }
        return new StepSchedule(GraphKind.Local, phases);
    }

    private static StepSchedule Backprop(NetworkSpec spec)
    {
        var wiring = GraphWiring.Backprop(spec);
        var phases = new List<SchedulePhase>();
        foreach (var layer in spec.Layers.Select(l => l.Name))
        {
            var forwardFrom = wiring.Edges.Single(e => e.To == layer && e.Allows.Contains(MessageKind.Forward)).From;
            phases.Add(new SchedulePhase(layer, Forward, [new PhaseWait(MessageKind.Forward, forwardFrom)], null, SendsOf(wiring, layer, MessageKind.Forward), ReportsDone: false));
        }
        var top = spec.Layers[^1].Name;
        phases.Add(new SchedulePhase(GraphWiring.LossNode, Loss, [new PhaseWait(MessageKind.Forward, top), new PhaseWait(MessageKind.Pairing, GraphWiring.InputNode)], null,
            SendsOf(wiring, GraphWiring.LossNode, MessageKind.Backward), ReportsDone: true));
        foreach (var layer in spec.Layers.Select(l => l.Name).Reverse())
        {
            var backwardFrom = wiring.Edges.Single(e => e.To == layer && e.Allows.Contains(MessageKind.Backward)).From;
            phases.Add(new SchedulePhase(layer, Backward, [new PhaseWait(MessageKind.Backward, backwardFrom)], $"{Forward}(t)",
                SendsOf(wiring, layer, MessageKind.Backward), ReportsDone: true));
        }
        return new StepSchedule(GraphKind.Backprop, phases);
    }

    /// <summary>What each layer's rule declares it needs, from the rules themselves (built on a one-thread CPU backend and dropped).</summary>
    private static Dictionary<string, RuleSignals> RuleNeeds(NetworkSpec spec, RuleFactory rules)
    {
        var shapes = NetworkValidator.Validate(spec);
        using var backend = new CpuBackend(threads: 1);
        var needs = new Dictionary<string, RuleSignals>();
        for (int i = 0; i < shapes.Count; i++)
        {
            using var rule = rules(spec, shapes[i], backend, new RandomStream(0, 1000UL + (ulong)i), new AdamWSettings(0f));
            needs[spec.Layers[i].Name] = rule.Needs;
        }
        return needs;
    }

    private static IReadOnlyList<(MessageKind, string)> SendsOf(Wiring wiring, string node, MessageKind kind) =>
        [.. wiring.Targets(node, kind).Order(StringComparer.Ordinal).Select(to => (kind, to))];

    /// <summary>The schedule as `plastic describe` prints it: a line per phase, then how steps overlap.</summary>
    public IEnumerable<string> Describe(int maxInFlight)
    {
        foreach (var p in Phases)
        {
            var waits = p.Waits.Select(w => w.ToString()).Concat(p.After is null ? [] : [$"its own {p.After}"]).ToList();
            var sends = p.Sends.Select(s => $"{s.Kind}(t) to {s.To}").Concat(p.ReportsDone ? ["StepDone(t) to input"] : []).ToList();
            yield return $"  {p.Node,-10} {p.Phase,-9} waits for {(waits.Count == 0 ? "nothing" : string.Join(", ", waits))}; sends {(sends.Count == 0 ? "nothing" : string.Join(", ", sends))}";
        }
        yield return $"  input      sends Forward(t) and Pairing(t) when fewer than {maxInFlight} steps are unfinished; a step is finished when every {(Graph == GraphKind.Local ? "layer" : "layer and the loss node")} has sent StepDone(t)";
    }
}
