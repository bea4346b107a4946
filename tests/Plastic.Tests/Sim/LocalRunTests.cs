using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

public sealed class LocalRunTests
{
    private static readonly NetworkSpec SmallConv = new("small-conv", new InputSpec(3, 8, 8),
    [
        new LayerSpec("c1", LayerKind.Conv, 8, LossPool: 2),
        new LayerSpec("c2", LayerKind.Conv, 8, MaxPool: 2, LossPool: 2),
        new LayerSpec("c3", LayerKind.Conv, 16, LossPool: 2),
        new LayerSpec("c4", LayerKind.Conv, 16, MaxPool: 2),
    ], [], "clapp++");

    private static Task<RunResult> Run(NetworkSpec spec, int maxInFlight, long steps = 6) =>
        Simulation.RunAsync(spec, new RunOptions(steps, BatchSize: 4, Seed: 5) { Schedule = new(MaxInFlight: maxInFlight), Optimizer = new(1e-3f) }, () => new CpuBackend(threads: 1));

    [Fact]
    public async Task Pipelined_schedule_gives_bit_identical_weights_to_the_sequential_one()
    {
        var sequential = await Run(SmallConv, maxInFlight: 1);
        var pipelined = await Run(SmallConv, maxInFlight: 4);
        foreach (var layer in SmallConv.Layers.Select(l => l.Name))
        {
            Tolerance.AssertBitIdentical(sequential.Parameters[layer].Weight.AsSpan(), pipelined.Parameters[layer].Weight.AsSpan(), $"{layer} weights");
            Tolerance.AssertBitIdentical(sequential.Parameters[layer].Bias.AsSpan(), pipelined.Parameters[layer].Bias.AsSpan(), $"{layer} bias");
            Assert.Equal(sequential.Losses[layer].ToArray(), pipelined.Losses[layer].ToArray());
        }
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_weights_and_training_moves_them()
    {
        var a = await Run(SmallConv, maxInFlight: 2, steps: 3);
        var b = await Run(SmallConv, maxInFlight: 2, steps: 3);
        var untrained = await Run(SmallConv, maxInFlight: 1, steps: 0);
        foreach (var layer in SmallConv.Layers.Select(l => l.Name))
        {
            Tolerance.AssertBitIdentical(a.Parameters[layer].Weight.AsSpan(), b.Parameters[layer].Weight.AsSpan(), layer);
            Assert.NotEqual(untrained.Parameters[layer].Weight.ToArray(), a.Parameters[layer].Weight.ToArray());
            Assert.All(a.Losses[layer], l => Assert.True(double.IsFinite(l) && l >= 0));
        }
    }

    [Fact]
    public async Task Unavailable_rules_and_feedback_are_refused_before_any_actor_starts()
    {
        var unknown = SmallConv with { Rule = "forward-forward" };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Run(unknown, 1));
        Assert.Contains("rule 'forward-forward'", e.Message);
        var invalid = SmallConv with { Layers = [.. SmallConv.Layers.Take(3), SmallConv.Layers[3] with { Width = -1 }] };
        await Assert.ThrowsAsync<SpecException>(() => Run(invalid, 1));
    }
}

public sealed class FailingRuleTests
{
    /// <summary>A rule that works until a given step, then throws.</summary>
    private sealed class BreaksAt(long step) : Plastic.Rules.ILocalRule
    {
        private long _calls;
        public string Name => "breaks";
        public Plastic.Rules.RuleSignals Needs => Plastic.Rules.RuleSignals.None;
        public double ComputeUpdate(Plastic.Rules.LocalView view, Plastic.Compute.Tensor gradWeight, Plastic.Compute.Tensor? gradBias)
        {
            if (_calls++ == step) throw new InvalidOperationException("the rule's B went NaN");
            view.Backend.Fill(gradWeight, 0f);
            if (gradBias is not null) view.Backend.Fill(gradBias, 0f);
            return 0;
        }
        public void Dispose() { }
    }

    [Fact]
    public async Task A_rule_that_throws_stops_the_run_with_the_layer_step_and_reason()
    {
        var spec = Presets.Mlp(6, [5, 4, 3], "breaks");
        var e = await Assert.ThrowsAsync<Plastic.Sim.Actors.SimulationException>(() => Simulation.RunAsync(spec, new RunOptions(5, BatchSize: 4) { Schedule = new(MaxInFlight: 2) },
            () => new CpuBackend(threads: 1), rules: (_, shape, _, _, _) => new BreaksAt(shape.Layer.Name == "fc2" ? 3 : long.MaxValue)));
        Assert.Equal("fc2", e.Node);
        Assert.Equal(3, e.Step);
        Assert.Contains("the rule's B went NaN", e.Message);
    }

    [Theory]
    [InlineData(GraphKind.Local)]
    [InlineData(GraphKind.Backprop)]
    public async Task A_run_that_diverges_stops_at_the_first_step_that_is_not_finite_naming_node_and_step(GraphKind graph)
    {
        var spec = Presets.Mlp(6, [5, 4, 3], graph == GraphKind.Local ? "clapp++" : "bp-clapp++");
        var e = await Assert.ThrowsAsync<Plastic.Sim.Actors.SimulationException>(() => Simulation.RunAsync(spec,
            new RunOptions(50, BatchSize: 4, Graph: graph) { Optimizer = new(1e15f) }, () => new CpuBackend(threads: 1)));
        Assert.Contains("diverged: the", e.Message);
        Assert.Contains("lower the learning rate", e.Message);
        Assert.InRange(e.Step, 1, 49); // step 0 is computed with the initial, finite weights
        Assert.Contains(e.Node, (string[])["fc1", "fc2", "fc3", "loss"]);
    }
}
