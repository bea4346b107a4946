using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Topology;

namespace Plastic.Tests.Rules;

/// <summary>
/// Behaviour, solo-learn style: each rule's own loss goes down over a few hundred steps on a small
/// synthetic task (two views that are noisy copies of each other, so there is something to learn).
/// </summary>
public sealed class RuleLearningTests
{
    [Theory]
    [InlineData("clapp++")]
    [InlineData("clapp++/softplus")]
    [InlineData("clapp++dfb")]
    [InlineData("clapp++both")]
    public async Task The_local_loss_of_every_layer_decreases(string rule)
    {
        var spec = Presets.Mlp(24, [16, 16, 12], rule) with
        {
            Feedback = rule.StartsWith("clapp++dfb") || rule.StartsWith("clapp++both") ? [new EdgeSpec("fc3", "fc1"), new EdgeSpec("fc3", "fc2")] : [],
        };
        var result = await Simulation.RunAsync(spec, new RunOptions(300, BatchSize: 16, Seed: 4, MaxInFlight: 4, LearningRate: 3e-3f),
            () => new CpuBackend(threads: 1));
        foreach (var layer in spec.Layers.Select(l => l.Name))
        {
            var losses = result.Losses[layer];
            double first = losses.Take(50).Average(), last = losses.Skip(250).Average();
            Assert.True(last < 0.8 * first, $"{rule} {layer}: mean loss {first:F4} over the first 50 steps, {last:F4} over the last 50");
        }
    }
}
