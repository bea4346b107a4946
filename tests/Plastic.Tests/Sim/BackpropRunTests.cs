using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

public sealed class BackpropRunTests
{
    private static Task<RunResult> Run(NetworkSpec spec, GraphKind graph, long steps) =>
        Simulation.RunAsync(spec, new RunOptions(steps, BatchSize: 4, Seed: 9, Graph: graph) { Optimizer = new(1e-3f) }, () => new CpuBackend(threads: 1));

    private static readonly NetworkSpec Conv = new("conv3", new InputSpec(2, 8, 8),
    [
        new LayerSpec("c1", LayerKind.Conv, 4),
        new LayerSpec("c2", LayerKind.Conv, 6, MaxPool: 2),
        new LayerSpec("c3", LayerKind.Conv, 8, LossPool: 2),
    ], [], "clapp++");

    [Fact]
    public async Task With_one_layer_backprop_and_local_learning_are_the_same_computation()
    {
        // PAPER.md 7.11: at the top layer the local update equals the backprop update.
        // "/grid" keeps the layer's loss grid at the top of the backprop graph (the paper's baselines pool it to 1 x 1).
        var one = Conv with { Layers = [Conv.Layers[0] with { LossPool = 2 }] };
        var local = await Run(one, GraphKind.Local, 4);
        var bp = await Run(one with { Rule = one.Rule + "/grid" }, GraphKind.Backprop, 4);
        Tolerance.AssertBitIdentical(local.Parameters["c1"].Weight.AsSpan(), bp.Parameters["c1"].Weight.AsSpan(), "weights after 4 steps");
        Assert.Equal(local.Losses["c1"].ToArray(), bp.Losses["loss"].ToArray());
    }

    /// <summary>The same for every member of the CLAPP family and its options (PAPER.md 7.11).</summary>
    [Theory]
    [InlineData("clapp")]
    [InlineData("clapp++/softplus")]
    [InlineData("clapp++/gap")]
    [InlineData("clapp++/linear/fixed-b")]
    [InlineData("clapp++/either")]
    public async Task With_one_layer_every_clapp_variant_learns_the_same_in_both_graphs(string rule)
    {
        var one = Conv with { Layers = [Conv.Layers[0] with { LossPool = 2, MaxPool = 2 }], Rule = rule };
        var local = await Run(one, GraphKind.Local, 3);
        var bp = await Run(one with { Rule = rule + "/grid" }, GraphKind.Backprop, 3);
        Tolerance.AssertBitIdentical(local.Parameters["c1"].Weight.AsSpan(), bp.Parameters["c1"].Weight.AsSpan(), $"{rule}: weights after 3 steps");
        Assert.Equal(local.Losses["c1"].ToArray(), bp.Losses["loss"].ToArray());
    }

    [Fact]
    public async Task After_one_step_the_top_layer_of_both_graphs_is_updated_identically_and_lower_layers_differ()
    {
        var local = await Run(Conv, GraphKind.Local, 1);
        var bp = await Run(Conv with { Rule = Conv.Rule + "/grid" }, GraphKind.Backprop, 1);
        Tolerance.AssertBitIdentical(local.Parameters["c3"].Weight.AsSpan(), bp.Parameters["c3"].Weight.AsSpan(), "top layer");
        Assert.NotEqual(local.Parameters["c1"].Weight.ToArray(), bp.Parameters["c1"].Weight.ToArray());
    }

    [Fact]
    public async Task Backprop_runs_one_step_at_a_time()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            Simulation.RunAsync(Conv, new RunOptions(2, BatchSize: 4, Graph: GraphKind.Backprop) { Schedule = new(MaxInFlight: 3) }, () => new CpuBackend(threads: 1)));
        Assert.Contains("backward-locked", e.Message);
    }
}
