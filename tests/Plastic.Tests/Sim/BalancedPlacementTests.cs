using Plastic.Sim;
using Plastic.Sim.Distributed;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>
/// A local cluster's default placement from measured layer costs, checked against placements worked out by
/// hand: the busiest worker as light as can be, then the fewest edges between workers, workers numbered by
/// their first layer; contiguous groups above the exhaustive limit and for the backprop graph.
/// </summary>
public sealed class BalancedPlacementTests
{
    private static readonly NetworkSpec Vgg = Presets.ByName("vgg6-cifar-small");

    private static Dictionary<string, double> Costs(params double[] ms) =>
        Vgg.Layers.Select((l, i) => (l.Name, ms[i])).ToDictionary(x => x.Name, x => x.Item2);

    [Fact]
    public void The_quickstart_costs_share_out_as_block1_2_6_against_block3_4_5()
    {
        // One-thread costs measured on 2 cores (TRAINING.md, 2026-12-05): the best contiguous cut is 29.1 against
        // 24.4 (54 %); {1,2,6} against {3,4,5} is 27.1 against 26.4, with two crossings (block2 -> block3, block5 -> block6).
        var placement = BalancedPlacement.Of(Vgg, GraphKind.Local, 2, Costs(7.9, 14.4, 6.8, 11.8, 7.8, 4.8));
        Assert.Equal("worker1=block1,block2,block6; worker2=block3,block4,block5", placement.ToString());
    }

    [Fact]
    public void Equal_costs_keep_contiguous_groups_which_cross_least()
    {
        var placement = BalancedPlacement.Of(Vgg, GraphKind.Local, 2, Costs(1, 1, 1, 1, 1, 1));
        Assert.Equal("worker1=block1,block2,block3; worker2=block4,block5,block6", placement.ToString());
        var three = BalancedPlacement.Of(Vgg, GraphKind.Local, 3, Costs(1, 1, 1, 1, 1, 1));
        Assert.Equal("worker1=block1,block2; worker2=block3,block4; worker3=block5,block6", three.ToString());
    }

    [Fact]
    public void Within_the_slack_the_fewer_crossings_win_over_a_slightly_lighter_busiest_worker()
    {
        // Contiguous {1,2,3} | {4,5,6}: 10.2 against 9.8 (one crossing). {1,2,4} | {3,5,6} would be 10.0 against 10.0,
        // 2 % lighter at the busiest, but with three crossings.
        var placement = BalancedPlacement.Of(Vgg, GraphKind.Local, 2, Costs(3.4, 3.4, 3.4, 3.2, 3.3, 3.3));
        Assert.Equal("worker1=block1,block2,block3; worker2=block4,block5,block6", placement.ToString());
    }

    [Fact]
    public void One_very_costly_layer_gets_a_worker_to_itself()
    {
        var placement = BalancedPlacement.Of(Vgg, GraphKind.Local, 2, Costs(1, 1, 1, 20, 1, 1));
        Assert.Equal("worker1=block1,block2,block3,block5,block6; worker2=block4", placement.ToString());
    }

    [Fact]
    public void Every_worker_gets_a_layer_even_when_one_layer_outweighs_the_rest()
    {
        var placement = BalancedPlacement.Of(Vgg, GraphKind.Local, 6, Costs(100, 1, 1, 1, 1, 1));
        Assert.Equal(6, placement.WorkerRoles.Count);
        Assert.All(placement.WorkerRoles, r => Assert.Single(placement.NodesOf(r)));
    }

    [Fact]
    public void The_backprop_graph_keeps_contiguous_groups_with_the_loss_node_on_top()
    {
        var placement = BalancedPlacement.Of(Vgg, GraphKind.Backprop, 2, Costs(7.9, 14.4, 6.8, 11.8, 7.8, 4.8));
        Assert.Equal(Placement.Split(Vgg, GraphKind.Backprop, 2).ToString(), placement.ToString());
        Assert.Equal("worker2", placement.Of("loss"));
    }

    [Fact]
    public void Above_the_exhaustive_limit_the_cut_is_the_best_contiguous_one()
    {
        // 4^12 = 16.8 million assignments: cut into consecutive groups, the busiest as light as a contiguous cut allows.
        var layers = Enumerable.Range(1, 12).Select(i => new LayerSpec($"l{i}", LayerKind.Linear, 8)).ToList();
        var wide = Vgg with { Layers = layers, Feedback = [] };
        double[] ms = [5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5];
        var placement = BalancedPlacement.Of(wide, GraphKind.Local, 4, layers.Select((l, i) => (l.Name, ms[i])).ToDictionary(x => x.Name, x => x.Item2));
        // Total 20, best busiest 5: {l1} {l2..l6} {l7..l11} {l12}.
        Assert.Equal("worker1=l1; worker2=l2,l3,l4,l5,l6; worker3=l10,l11,l7,l8,l9; worker4=l12", placement.ToString());
    }

    [Fact]
    public void A_layer_without_a_measured_cost_is_refused_by_name()
    {
        var costs = Costs(1, 1, 1, 1, 1, 1);
        costs.Remove("block5");
        var e = Assert.Throws<ArgumentException>(() => BalancedPlacement.Of(Vgg, GraphKind.Local, 2, costs));
        Assert.Contains("block5", e.Message);
        Assert.Throws<ArgumentException>(() => BalancedPlacement.Of(Vgg, GraphKind.Local, 7, Costs(1, 1, 1, 1, 1, 1)));
    }
}
