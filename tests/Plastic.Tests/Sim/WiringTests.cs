using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

public sealed class WiringTests
{
    private static readonly NetworkSpec Dfb = Presets.Vgg6(32, 0.125, "clapp++dfb", directFeedback: true);

    [Fact]
    public void Local_graph_carries_activations_up_pairing_from_input_and_references_down_declared_edges()
    {
        var w = GraphWiring.Local(Dfb);
        w.Check("input", "block1", MessageKind.Forward);
        w.Check("block3", "block4", MessageKind.Forward);
        w.Check("input", "block5", MessageKind.Pairing);
        w.Check("block6", "block2", MessageKind.TopDownReference);
        Assert.Equal(["block1", "block2", "block3", "block4", "block5"], w.Targets("block6", MessageKind.TopDownReference).Order());
    }

    [Fact]
    public void Local_graph_refuses_gradients_naming_the_edge_and_kind()
    {
        var w = GraphWiring.Local(Dfb);
        var e = Assert.Throws<LocalityViolationException>(() => w.Check("block4", "block3", MessageKind.Backward));
        Assert.Contains("block4 -> block3", e.Message);
        Assert.Contains("Backward", e.Message);
        Assert.DoesNotContain(w.Edges, edge => edge.Allows.Contains(MessageKind.Backward));
    }

    [Fact]
    public void A_feedback_edge_carries_nothing_upwards_and_nothing_but_references()
    {
        var w = GraphWiring.Local(Dfb);
        var up = Assert.Throws<LocalityViolationException>(() => w.Check("block2", "block6", MessageKind.TopDownReference));
        Assert.Contains("no edge block2 -> block6", up.Message);
        var wrongKind = Assert.Throws<LocalityViolationException>(() => w.Check("block6", "block2", MessageKind.Forward));
        Assert.Contains("edge block6 -> block2 carries only TopDownReference", wrongKind.Message);
    }

    [Fact]
    public void Lateral_graph_has_no_feedback_and_backprop_graph_sends_gradients_down_one_edge_at_a_time()
    {
        var lateral = GraphWiring.Local(Presets.Vgg6(32, 0.125));
        Assert.DoesNotContain(lateral.Edges, e => e.Allows.Contains(MessageKind.TopDownReference));

        var bp = GraphWiring.Backprop(Presets.Vgg6(32, 0.125, "bp-clapp++"));
        bp.Check("block6", "loss", MessageKind.Forward);
        bp.Check("loss", "block6", MessageKind.Backward);
        bp.Check("block3", "block2", MessageKind.Backward);
        Assert.Throws<LocalityViolationException>(() => bp.Check("block6", "block1", MessageKind.Backward));
        Assert.Throws<LocalityViolationException>(() => bp.Check("input", "block3", MessageKind.Pairing));
    }
}
