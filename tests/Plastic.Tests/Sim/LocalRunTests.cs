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

    private static Task<LocalRunResult> Run(NetworkSpec spec, int maxInFlight, long steps = 6) =>
        LocalRun.RunAsync(spec, new LocalRunOptions(steps, BatchSize: 4, Seed: 5, MaxInFlight: maxInFlight, LearningRate: 1e-3f), () => new CpuBackend(threads: 1));

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
