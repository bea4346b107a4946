using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim;
using Plastic.Sim.Blocks;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Rules;

/// <summary>CLAPP++DFB and CLAPP++both: their updates are the gradients of their local losses, with the reference held fixed.</summary>
public sealed class DirectFeedbackRuleTests
{
    private readonly CpuBackend _b = new(threads: 2);
    private const int N = 4, TopFeatures = 3;
    private static readonly int[] Negatives = [6, 7, 4, 5, 2, 3, 0, 1];

    [Theory]
    [InlineData(DirectFeedbackRule.RuleName)]
    [InlineData(BothRule.RuleName)]
    public void Weight_update_is_the_gradient_of_the_local_loss(string name)
    {
        var spec = new NetworkSpec("t", new InputSpec(2, 6, 6), [new LayerSpec("c", LayerKind.Conv, 3, MaxPool: 2, LossPool: 2)], [], name);
        var shape = NetworkValidator.Validate(spec)[0];
        using var block = new LayerBlock(_b, shape, new RandomStream(4, 0));
        using var input = _b.Upload(TestData.Normal(2 * N * 2 * 36, 6), new Shape(2 * N, 2, 6, 6));
        using var reference = _b.Upload(TestData.Normal(2 * N * TopFeatures, 7), new Shape(2 * N, TopFeatures));
        var init = new RandomStream(4, 1);
        var frozen = new AdamWSettings(0f); // B stays put, so the loss can be probed around one point
        using ILocalRule rule = name == DirectFeedbackRule.RuleName
            ? new DirectFeedbackRule(_b, shape.LossFeatures.Size, TopFeatures, 2, init, frozen)
            : new BothRule(_b, shape.LossFeatures.Size, TopFeatures, 2, init, frozen);
        if (rule is DirectFeedbackRule dfb) _b.Scale(dfb.B, 8f, dfb.B);
        using var dw = _b.Allocate(block.Weight.Shape);
        using var db = _b.Allocate(block.Bias!.Shape);

        block.Forward(input);
        double loss = rule.ComputeUpdate(block.ViewForRule(N, Negatives, reference), dw, db);
        Assert.True(loss > 0);
        // The lateral reference (the layer's own features) is detached too: held at its unperturbed value.
        using var lateral = rule is BothRule both0 ? _b.Upload(both0.LateralLoss.LastFeatures!.ToArray(), both0.LateralLoss.LastFeatures!.Shape) : null;
        double Loss()
        {
            block.Forward(input);
            if (rule is BothRule both)
                return both.LateralLoss.Compute(block.Output, N, Negatives, out _, lateral) + both.SecondLoss.Compute(block.Output, N, Negatives, out _, reference);
            using var w = _b.Allocate(block.Weight.Shape);
            using var bb = _b.Allocate(block.Bias!.Shape);
            return rule.ComputeUpdate(block.ViewForRule(N, Negatives, reference), w, bb);
        }
        var w0 = block.Weight.ToArray();
        FiniteDifference.Check(w0, wv => { _b.Upload(wv, block.Weight); double l = Loss(); _b.Upload(w0, block.Weight); return l; }, dw.ToArray(), $"{name} dL/dW", step: 1e-3);
        if (rule is DirectFeedbackRule d)
        {
            var b0 = d.B.ToArray();
            block.Forward(input);
            rule.ComputeUpdate(block.ViewForRule(N, Negatives, reference), dw, db);
            var analyticB = d.LastBGradient.ToArray();
            Assert.Equal(new Shape(shape.LossFeatures.Size, TopFeatures), d.B.Shape);
            FiniteDifference.Check(b0, bv => { _b.Upload(bv, d.B); double l = Loss(); _b.Upload(b0, d.B); return l; }, analyticB, $"{name} dL/dB", step: 1e-3);
        }
    }

    [Fact]
    public async Task A_dfb_network_trains_with_each_layer_on_the_reference_of_its_own_step_on_any_schedule()
    {
        var spec = new NetworkSpec("dfb", new InputSpec(3, 8, 8),
        [
            new LayerSpec("c1", LayerKind.Conv, 6, LossPool: 2),
            new LayerSpec("c2", LayerKind.Conv, 8, MaxPool: 2, LossPool: 2),
            new LayerSpec("c3", LayerKind.Conv, 8, MaxPool: 2),
        ], [new EdgeSpec("c3", "c1"), new EdgeSpec("c3", "c2")], DirectFeedbackRule.RuleName);
        Task<RunResult> Run(int inFlight) => Simulation.RunAsync(spec, new RunOptions(5, BatchSize: 4) { Schedule = new(MaxInFlight: inFlight), Optimizer = new(1e-3f) }, () => new CpuBackend(threads: 1));
        var sequential = await Run(1);
        var pipelined = await Run(3);
        foreach (var layer in new[] { "c1", "c2", "c3" })
            Tolerance.AssertBitIdentical(sequential.Parameters[layer].Weight.AsSpan(), pipelined.Parameters[layer].Weight.AsSpan(), layer);
        Assert.Equal([0L, 1, 2, 3, 4], pipelined.ReferenceSteps["c1"].ToArray());
        Assert.All(pipelined.ReferenceSteps["c3"], s => Assert.Equal(-1, s)); // the top layer is lateral
    }

    [Fact]
    public async Task A_dfb_rule_without_a_feedback_edge_into_its_layer_is_refused()
    {
        var spec = Presets.Mlp(6, [5, 4, 3], DirectFeedbackRule.RuleName) with { Feedback = [new EdgeSpec("fc3", "fc1")] };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Simulation.RunAsync(spec, new RunOptions(1, BatchSize: 4), () => new CpuBackend(threads: 1)));
        Assert.Contains("Layer 'fc2': rule 'clapp++dfb' needs a direct-feedback edge", e.Message);
    }
}
