using Plastic.Compute.Cpu;
using Plastic.Sim.Steps;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>
/// Each layer timed alone, as a local cluster does before it shares the layers out: every layer gets a finite,
/// positive cost, a layer doing about 500 times the arithmetic of another costs more than it, and a layer fed a
/// top-down reference (CLAPP++DFB) is timed with it.
/// </summary>
public sealed class LayerCostsTests
{
    [Fact]
    public void A_layer_with_far_more_work_costs_more_and_every_layer_has_a_cost()
    {
        // block l1: 64 x 16 weights and a 16 x 16 B; l2: 16 x 1024 weights and a 1024 x 1024 B (about 500 times the multiply-adds).
        var spec = Presets.Mlp(64, [16, 1024]);
        var costs = LayerCosts.Measure(spec, batch: 16, seed: 1, () => new CpuBackend(threads: 1));
        Assert.Equal(spec.Layers.Select(l => l.Name), costs.Keys);
        Assert.All(costs.Values, c => Assert.True(double.IsFinite(c) && c > 0, $"cost {c}"));
        string small = spec.Layers[0].Name, large = spec.Layers[1].Name;
        Assert.True(costs[large] > costs[small], $"{large} {costs[large] * 1e3:F3} ms against {small} {costs[small] * 1e3:F3} ms");
    }

    [Fact]
    public void A_layer_fed_a_top_down_reference_is_timed_with_it()
    {
        var spec = Presets.ByName("vgg6-cifar-small-dfb");
        var costs = LayerCosts.Measure(spec, batch: 2, seed: 1, () => new CpuBackend(threads: 1));
        Assert.Equal(6, costs.Count);
        Assert.All(costs.Values, c => Assert.True(double.IsFinite(c) && c > 0));
    }

    [Fact]
    public void A_batch_of_one_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => LayerCosts.Measure(Presets.Mlp(8, [4]), batch: 1, seed: 1, () => new CpuBackend(threads: 1)));
        Assert.Contains("batch 1", e.Message);
    }
}
