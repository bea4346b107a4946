using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

public sealed class AlignmentMeterTests
{
    private static readonly NetworkSpec Conv = new("conv4", new InputSpec(3, 8, 8),
    [
        new LayerSpec("c1", LayerKind.Conv, 6, LossPool: 2),
        new LayerSpec("c2", LayerKind.Conv, 8, MaxPool: 2, LossPool: 2),
        new LayerSpec("c3", LayerKind.Conv, 8),
        new LayerSpec("c4", LayerKind.Conv, 8, MaxPool: 2),
    ], [], "clapp++");

    private static IReadOnlyList<LayerAlignment> Measure(NetworkSpec spec, ulong step = 0)
    {
        using var meter = new AlignmentMeter(spec, new CpuBackend(threads: 2), seed: 3);
        return meter.Measure(new SyntheticBatches(spec.Input, 8, 3).Batch((long)step));
    }

    [Theory]
    [InlineData(ContrastiveLoss.Name)]
    [InlineData(DirectFeedbackRule.RuleName)]
    [InlineData(BothRule.RuleName)]
    public void The_top_layer_local_update_is_the_backprop_update(string rule)
    {
        // PAPER.md 7.11: at the top layer the local and the global loss are the same loss.
        var spec = rule == ContrastiveLoss.Name ? Conv
            : Conv with { Rule = rule, Feedback = [new EdgeSpec("c4", "c1"), new EdgeSpec("c4", "c2"), new EdgeSpec("c4", "c3")] };
        var top = Measure(spec)[^1];
        Assert.Equal(1.0, top.Cosine, 1e-6);
        Assert.Equal(1.0, top.NormRatio, 1e-6);
    }

    [Fact]
    public void Lower_layers_of_a_relu_net_align_less_than_perfectly()
    {
        // Not a claim about the paper's numbers: a ReLU conv net with random B is outside the theorem,
        // so the lower layers' cosines lie strictly inside (-1, 1).
        var alignment = Measure(Conv);
        Assert.All(alignment.Take(3), a => Assert.InRange(a.Cosine, -0.999, 0.999));
        Assert.All(alignment, a => Assert.True(double.IsFinite(a.Cosine) && a.NormRatio > 0));
    }
}
