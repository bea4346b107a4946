using OpenTelemetry;
using OpenTelemetry.Trace;
using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Sim.Protocol;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>The alignment monitor: snapshots every N steps, measured like the stand-alone meter, and invisible to learning and to the locality verdict.</summary>
[Collection("Tracing")]
public sealed class InRunAlignmentTests
{
    private static readonly NetworkSpec Conv = new("conv", new InputSpec(2, 8, 8),
    [
        new LayerSpec("c1", LayerKind.Conv, 6, LossPool: 2),
        new LayerSpec("c2", LayerKind.Conv, 8, MaxPool: 2, LossPool: 2),
        new LayerSpec("c3", LayerKind.Conv, 8, LossPool: 2),
    ], [], "clapp++");

    private static Task<RunResult> Run(int alignEvery, int steps = 6) =>
        Simulation.RunAsync(Conv, new RunOptions(steps, BatchSize: 4, Seed: 8) { Schedule = new(MaxInFlight: 3), Optimizer = new(1e-3f), Instruments = new(AlignEvery: alignEvery) }, () => new CpuBackend(threads: 1));

    [Fact]
    public async Task Every_nth_step_is_measured_for_every_layer_without_changing_what_is_learned()
    {
        var plain = await Run(0);
        var monitored = await Run(2);
        Assert.Empty(plain.Alignment);
        Assert.Equal([0L, 0, 0, 2, 2, 2, 4, 4, 4], monitored.Alignment.Select(a => a.Step));
        Assert.Equal(["c1", "c2", "c3"], monitored.Alignment.Take(3).Select(a => a.Layer.Layer));
        foreach (var layer in Conv.Layers.Select(l => l.Name))
            Assert.Equal(plain.Parameters[layer].Weight.ToArray(), monitored.Parameters[layer].Weight.ToArray());

        // The top layer's local loss is the backprop loss: its update and error signal align exactly.
        foreach (var top in monitored.Alignment.Where(a => a.Layer.Layer == "c3"))
        {
            Assert.InRange(top.Layer.Cosine, 1 - 1e-6, 1 + 1e-6);
            Assert.InRange(top.Layer.NormRatio, 1 - 1e-5, 1 + 1e-5);
            Assert.InRange(top.Layer.ErrorCosine, 1 - 1e-6, 1 + 1e-6);
        }
        Assert.All(monitored.Alignment.Where(a => a.Layer.Layer != "c3"), a => Assert.InRange(a.Layer.Cosine, -1, 1 - 1e-3));
    }

    [Theory]
    [InlineData("clapp++dfb")]
    [InlineData("clapp++both")]
    [InlineData("clapp")]
    [InlineData("ff")]
    [InlineData("scff")]
    public async Task The_monitor_changes_nothing_that_any_rule_learns(string rule)
    {
        var spec = Conv with { Rule = rule, Feedback = rule.StartsWith("clapp++dfb", StringComparison.Ordinal) || rule.StartsWith("clapp++both", StringComparison.Ordinal)
            ? [new EdgeSpec("c3", "c1"), new EdgeSpec("c3", "c2")] : [] };
        Task<RunResult> RunWith(int alignEvery) => Simulation.RunAsync(spec,
            new RunOptions(7, BatchSize: 4, Seed: 8) { Schedule = new(MaxInFlight: 3), Optimizer = new(1e-2f), Instruments = new(AlignEvery: alignEvery) }, () => new CpuBackend(threads: 1));
        var plain = await RunWith(0);
        var monitored = await RunWith(3);
        Assert.Equal([0L, 3, 6], monitored.Alignment.Select(a => a.Step).Distinct());
        foreach (var layer in spec.Layers.Select(l => l.Name))
        {
            Assert.Equal(plain.Parameters[layer].Weight.ToArray(), monitored.Parameters[layer].Weight.ToArray());
            Assert.Equal(plain.Losses[layer].ToArray(), monitored.Losses[layer].ToArray());
        }
    }

    [Fact]
    public async Task The_first_measurement_is_the_stand_alone_meter_at_initialisation()
    {
        var monitored = await Run(5, steps: 1);
        using var meter = new AlignmentMeter(Conv, new CpuBackend(threads: 1), 8);
        var expected = meter.Measure(new SyntheticBatches(Conv.Input, 4, 8).Batch(0), 0);
        Assert.Equal(expected, monitored.Alignment.Select(a => a.Layer).ToList());
    }

    [Fact]
    public async Task Snapshot_traffic_is_traced_but_left_out_of_the_locality_verdict()
    {
        string path = Path.Combine(Path.GetTempPath(), $"plastic-spans-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (Sdk.CreateTracerProviderBuilder().AddSource(SimTelemetry.Name).AddProcessor(new SimpleActivityExportProcessor(new JsonlSpanExporter(path))).Build())
                await Run(3);
            var rows = TrafficMatrix.Read(path);
            var snapshots = rows.Where(r => r.Kind == MessageKind.Snapshot).ToList();
            Assert.Equal(3, snapshots.Count);
            Assert.All(snapshots, r => { Assert.Equal(GraphWiring.MonitorNode, r.To); Assert.Equal(2, r.Messages); });
            Assert.Empty(TrafficMatrix.LocalityViolations(rows, GraphWiring.Local(Conv)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("clapp")]
    [InlineData("clapp++/either/softplus")]
    public async Task The_top_layer_aligns_exactly_with_global_pooling_and_50_50_draws_too(string rule)
    {
        var result = await Simulation.RunAsync(Conv with { Rule = rule }, new RunOptions(4, BatchSize: 4, Seed: 8) { Schedule = new(MaxInFlight: 2), Optimizer = new(1e-3f), Instruments = new(AlignEvery: 1) },
            () => new CpuBackend(threads: 1));
        var top = result.Alignment.Where(a => a.Layer.Layer == "c3").ToList();
        Assert.Equal(4, top.Count);
        Assert.All(top, a => Assert.Equal(1.0, a.Layer.Cosine, 1e-6));
    }

    [Fact]
    public async Task A_monitor_that_fails_stops_the_run_with_its_reason_instead_of_hanging()
    {
        // Rules whose state the monitor's own rules do not share: loading the snapshot fails in the monitor.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<Plastic.Sim.Actors.SimulationException>(() => Simulation.RunAsync(Conv,
            new RunOptions(3, BatchSize: 4, Seed: 8) { Instruments = new(AlignEvery: 1) }, () => new CpuBackend(threads: 1),
            rules: (spec, shape, backend, init, optimizer) => new Stateless(Simulation.DefaultRule(spec, shape, backend, init, optimizer))));
        Assert.Equal(GraphWiring.MonitorNode, e.Node);
        Assert.Contains("rule tensors", e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"took {clock.Elapsed}");
    }

    private sealed class Stateless(Plastic.Rules.ILocalRule inner) : Plastic.Rules.ILocalRule
    {
        public string Name => inner.Name;
        public Plastic.Rules.RuleSignals Needs => inner.Needs;
        public double ComputeUpdate(Plastic.Rules.LocalView view, Plastic.Compute.Tensor gradWeight, Plastic.Compute.Tensor? gradBias) => inner.ComputeUpdate(view, gradWeight, gradBias);
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public async Task Alignment_is_refused_for_the_backprop_graph()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Simulation.RunAsync(Conv,
            new RunOptions(2, BatchSize: 4, Graph: GraphKind.Backprop) { Instruments = new(AlignEvery: 1) }, () => new CpuBackend(threads: 1)));
        Assert.Contains("local runs", e.Message);
    }
}
