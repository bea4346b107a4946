using System.Text.Json;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim;
using Plastic.Sim.Protocol;
using Plastic.Sim.Schedule;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>
/// The schedule `plastic describe` prints is the one the actors run: derived from the wiring and each
/// rule's declared needs, and checked against the spans of real runs: every phase of every step happened,
/// after every message it waits for and after its own previous phase, and was set off by one of the
/// messages its node waits for (never by one it was declared not to need).
/// </summary>
[Collection("Tracing")]
public sealed class StepScheduleTests
{
    private static readonly NetworkSpec Fed = Presets.Mlp(10, [8, 8, 8, 6], "clapp++dfb") with
    {
        Feedback = [new EdgeSpec("fc4", "fc1"), new EdgeSpec("fc4", "fc2"), new EdgeSpec("fc4", "fc3")],
    };

    /// <summary>A rule that declares it needs nothing beyond its layer (no pairing, no reference) and changes nothing.</summary>
    private sealed class NeedsNothing : ILocalRule
    {
        public string Name => "needs-nothing";
        public RuleSignals Needs => RuleSignals.None;

        public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
        {
            view.Backend.Fill(gradWeight, 0f);
            if (gradBias is not null) view.Backend.Fill(gradBias, 0f);
            return 0;
        }

        public void Dispose() { }
    }

    /// <summary>fc2 learns with a rule that needs nothing; the others with the catalogue's clapp++dfb.</summary>
    private static ILocalRule MixedRules(NetworkSpec spec, LayerShape shape, IComputeBackend backend, RandomStream init, AdamWSettings optimizer) =>
        shape.Layer.Name == "fc2" ? new NeedsNothing() : Simulation.DefaultRule(spec, shape, backend, init, optimizer);

    [Fact]
    public void The_schedule_follows_the_wiring_and_what_each_rule_declares()
    {
        var schedule = StepSchedule.Derive(Fed, GraphKind.Local, MixedRules);
        SchedulePhase Update(string layer) => schedule.Phases.Single(p => p.Node == layer && p.Phase == StepSchedule.Update);
        Assert.Equal(["Pairing(t) from input", "TopDownReference(t) from fc4"], Update("fc1").Waits.Select(w => w.ToString()));
        Assert.Empty(Update("fc2").Waits);
        Assert.Equal(["Pairing(t) from input"], Update("fc4").Waits.Select(w => w.ToString())); // the sender learns with the lateral rule
        var topForward = schedule.Phases.Single(p => p.Node == "fc4" && p.Phase == StepSchedule.Forward);
        Assert.Equal(["fc1", "fc2", "fc3"], topForward.Sends.Where(s => s.Kind == MessageKind.TopDownReference).Select(s => s.To));

        var backprop = StepSchedule.Derive(Fed, GraphKind.Backprop);
        Assert.Equal(["fc1 forward", "fc2 forward", "fc3 forward", "fc4 forward", "loss loss", "fc4 backward", "fc3 backward", "fc2 backward", "fc1 backward"],
            backprop.Phases.Select(p => $"{p.Node} {p.Phase}"));
    }

    [Theory]
    [InlineData(GraphKind.Local, 4)]
    [InlineData(GraphKind.Local, 1)]
    [InlineData(GraphKind.Backprop, 1)]
    public async Task The_actors_run_the_schedule_step_by_step(GraphKind graph, int maxInFlight)
    {
        const int steps = 6;
        var spec = graph == GraphKind.Local ? Fed : Fed with { Rule = "bp-clapp++", Feedback = [] };
        RuleFactory? rules = graph == GraphKind.Local ? MixedRules : null;
        var spans = await TracedRun(spec, new RunOptions(steps, BatchSize: 4, Seed: 3, Graph: graph) { Schedule = new(MaxInFlight: maxInFlight), Optimizer = new(1e-3f) }, rules);
        var schedule = StepSchedule.Derive(spec, graph, rules);

        var phases = spans.Where(s => s.Phase is not null).ToList();
        var messages = spans.Where(s => s.Kind is not null).ToList();
        var byId = spans.ToDictionary(s => s.Id);
        Assert.Equal(schedule.Phases.Count * steps, phases.Count);
        foreach (var planned in schedule.Phases)
        {
            // A phase may be set off by any message its node waits for in any of its phases (a late signal
            // of step t lets the update of t and then the already-arrived forward of t+1 run).
            var triggers = schedule.Phases.Where(p => p.Node == planned.Node).SelectMany(p => p.Waits).ToHashSet();
            for (long t = 0; t < steps; t++)
            {
                var ran = phases.Single(p => p.Node == planned.Node && p.Phase == planned.Phase && p.Step == t);
                foreach (var wait in planned.Waits)
                    Assert.Contains(messages, m => m.Node == planned.Node && m.Kind == wait.Kind.ToString() && m.From == wait.From && m.Step == t && m.Start <= ran.Start);
                if (Previous(schedule, planned, t) is var (phase, step) && step >= 0)
                    Assert.True(phases.Single(p => p.Node == planned.Node && p.Phase == phase && p.Step == step).Start <= ran.Start,
                        $"{planned.Node} ran {planned.Phase}({t}) before its {phase}({step})");
                var trigger = byId[ran.Parent];
                Assert.Contains(new PhaseWait(Enum.Parse<MessageKind>(trigger.Kind!), trigger.From!), triggers);
            }
        }
    }

    /// <summary>The phase a phase comes after (its "After"), with its step: update(t-1) is step t - 1.</summary>
    private static (string Phase, long Step)? Previous(StepSchedule schedule, SchedulePhase phase, long t) => phase.After switch
    {
        null => null,
        var after when after.EndsWith("(t-1)", StringComparison.Ordinal) => (after[..after.IndexOf('(')], t - 1),
        var after => (after[..after.IndexOf('(')], t),
    };

    private sealed record Span(string Id, string Parent, string Node, string? Phase, string? Kind, string? From, long Step, DateTime Start);

    private static async Task<List<Span>> TracedRun(NetworkSpec spec, RunOptions options, RuleFactory? rules)
    {
        string path = Path.Combine(Path.GetTempPath(), $"plastic-schedule-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (Sdk.CreateTracerProviderBuilder().AddSource(SimTelemetry.Name).AddProcessor(new SimpleActivityExportProcessor(new JsonlSpanExporter(path))).Build())
                await Simulation.RunAsync(spec, options, () => new CpuBackend(threads: 1), rules: rules);
            return [.. File.ReadLines(path).Select(Parse).Where(s => s.Node != "")];
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static Span Parse(string line)
    {
        var root = JsonDocument.Parse(line).RootElement;
        var tags = root.GetProperty("tags");
        string? Tag(string name) => tags.TryGetProperty(name, out var v) ? v.ToString() : null;
        return new Span(root.GetProperty("span_id").GetString()!, root.GetProperty("parent_span_id").GetString()!, Tag(SimTelemetry.NodeTag) ?? "",
            Tag(SimTelemetry.PhaseTag), Tag(SimTelemetry.KindTag), Tag(SimTelemetry.FromTag), long.Parse(Tag(SimTelemetry.StepTag) ?? "-1"),
            DateTime.Parse(root.GetProperty("start_utc").GetString()!, null, System.Globalization.DateTimeStyles.RoundtripKind));
    }
}
