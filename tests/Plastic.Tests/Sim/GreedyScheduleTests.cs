using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Plastic.Experiments.Runs;
using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>Greedy (layer-by-layer) training, RULES-FF-SCFF-CLAPP.md 2.4: each layer learns in its own window, bottom first.</summary>
public sealed class GreedyScheduleTests
{
    private static readonly NetworkSpec SmallConv = new("small-conv", new InputSpec(3, 8, 8),
    [
        new LayerSpec("c1", LayerKind.Conv, 8, LossPool: 2),
        new LayerSpec("c2", LayerKind.Conv, 8, MaxPool: 2, LossPool: 2),
        new LayerSpec("c3", LayerKind.Conv, 16, LossPool: 2),
    ], [], "clapp++");

    private static Task<RunResult> Run(string rule, long steps, ImmutableArray<long> layerSteps = default, int maxInFlight = 4) =>
        Simulation.RunAsync(SmallConv with { Rule = rule }, new RunOptions(steps, BatchSize: 4, Seed: 5) { Schedule = new(MaxInFlight: maxInFlight, LayerSteps: layerSteps), Optimizer = new(1e-3f) },
            () => new CpuBackend(threads: 1));

    [Theory]
    [InlineData("clapp++")]
    [InlineData("scff")]
    public async Task The_first_layer_learns_as_a_plain_run_of_its_window_then_stays_frozen(string rule)
    {
        var greedy = await Run(rule, 7, [2, 3, 2]);
        // The bottom layer sees the same first two minibatches and its optimiser starts at t = 1 in
        // both runs; after its window nothing may touch it.
        var plain = await Run(rule, 2);
        Tolerance.AssertBitIdentical(plain.Parameters["c1"].Weight.AsSpan(), greedy.Parameters["c1"].Weight.AsSpan(), "c1 weights");
        Tolerance.AssertBitIdentical(plain.Parameters["c1"].Bias.AsSpan(), greedy.Parameters["c1"].Bias.AsSpan(), "c1 bias");
        Assert.Equal(plain.Losses["c1"].ToArray(), greedy.Losses["c1"].Take(2).ToArray());
    }

    [Fact]
    public async Task Each_layer_reports_a_loss_only_in_its_window_and_moves_only_then()
    {
        var greedy = await Run("clapp++", 7, [2, 3, 2]);
        var untrained = await Run("clapp++", 0);
        var windows = new[] { ("c1", 0, 2), ("c2", 2, 5), ("c3", 5, 7) };
        foreach (var (layer, start, end) in windows)
        {
            var losses = greedy.Losses[layer];
            for (int t = 0; t < 7; t++)
                Assert.True(double.IsFinite(losses[t]) == (t >= start && t < end), $"{layer} step {t}: loss {losses[t]}, window [{start}, {end})");
            Assert.NotEqual(untrained.Parameters[layer].Weight.ToArray(), greedy.Parameters[layer].Weight.ToArray());
        }
        // A layer's weights depend only on the windows up to its own: a longer last window leaves c1 and c2 as they were.
        var longer = await Run("clapp++", 9, [2, 3, 4]);
        foreach (var layer in new[] { "c1", "c2" })
            Tolerance.AssertBitIdentical(greedy.Parameters[layer].Weight.AsSpan(), longer.Parameters[layer].Weight.AsSpan(), $"{layer} weights");
        Assert.NotEqual(greedy.Parameters["c3"].Weight.ToArray(), longer.Parameters["c3"].Weight.ToArray());
    }

    [Fact]
    public async Task Greedy_is_the_same_pipelined_and_sequential()
    {
        var pipelined = await Run("clapp++", 5, [1, 2, 2], maxInFlight: 4);
        var sequential = await Run("clapp++", 5, [1, 2, 2], maxInFlight: 1);
        foreach (var layer in SmallConv.Layers.Select(l => l.Name))
            Tolerance.AssertBitIdentical(sequential.Parameters[layer].Weight.AsSpan(), pipelined.Parameters[layer].Weight.AsSpan(), layer);
    }

    [Fact]
    public async Task Windows_that_do_not_fit_the_network_or_the_run_are_refused()
    {
        Assert.Contains("one step count per layer", (await Assert.ThrowsAsync<ArgumentException>(() => Run("clapp++", 4, [2, 2]))).Message);
        Assert.Contains("must add up to the run's 5 steps", (await Assert.ThrowsAsync<ArgumentException>(() => Run("clapp++", 5, [1, 1, 1]))).Message);
        Assert.Contains("at least 1 step", (await Assert.ThrowsAsync<ArgumentException>(() => Run("clapp++", 2, [1, 0, 1]))).Message);
        var backprop = Simulation.RunAsync(SmallConv with { Rule = "bp-clapp++" },
            new RunOptions(3, BatchSize: 4, Graph: GraphKind.Backprop) { Schedule = new(LayerSteps: [1, 1, 1]) }, () => new CpuBackend(threads: 1));
        Assert.Contains("local graph", (await Assert.ThrowsAsync<ArgumentException>(() => backprop)).Message);
    }

    [Fact]
    public void A_run_spec_asks_for_greedy_with_epochs_or_steps_per_layer()
    {
        var spec = RunSpec.From(new JsonObject { ["network"] = "x", ["schedule"] = "greedy", ["layerSteps"] = new JsonArray(2, 3) }, "spec.json");
        Assert.Equal(5, spec.StepsFor(0));
        var epochs = RunSpec.From(new JsonObject { ["network"] = "x", ["dataset"] = "cifar10", ["schedule"] = "greedy", ["batch"] = 100, ["layerEpochs"] = new JsonArray(6, 4, 21) }, "spec.json");
        Assert.Equal(new long[] { 3000, 2000, 10500 }, epochs.LayerStepsFor(50_000));
        string Error(JsonObject o) => Assert.Throws<ArgumentException>(() => RunSpec.From(o, "spec.json")).Message;
        Assert.Contains("needs 'layerEpochs' or 'layerSteps'", Error(new JsonObject { ["network"] = "x", ["schedule"] = "greedy" }));
        Assert.Contains("remove 'steps'", Error(new JsonObject { ["network"] = "x", ["schedule"] = "greedy", ["steps"] = 5, ["layerSteps"] = new JsonArray(2, 3) }));
        Assert.Contains("add \"schedule\": \"greedy\"", Error(new JsonObject { ["network"] = "x", ["layerSteps"] = new JsonArray(2, 3) }));
        Assert.Contains("choose pipelined, sequential or greedy", Error(new JsonObject { ["network"] = "x", ["schedule"] = "eager" }));
        Assert.Contains("graph 'backprop' has one loss", Error(new JsonObject { ["network"] = "x", ["graph"] = "backprop", ["schedule"] = "greedy", ["layerSteps"] = new JsonArray(2, 3) }));
    }
}
