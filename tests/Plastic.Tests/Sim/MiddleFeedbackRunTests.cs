using Plastic.Compute.Cpu;
using Plastic.Datasets.Numpy;
using Plastic.Sim;
using Plastic.Sim.Steps;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>
/// Feedback from any higher layer, not only the top (the released code's --customize_fb_idx): c1 takes
/// its reference from the middle layer c3, which itself takes c4's. The actor graph's first update must
/// be the one `plastic step` computes for the same batch (OneStep, which the PyTorch twin checks on this
/// very topology: tests/peers/compare_twin.py, network "small-conv").
/// </summary>
public sealed class MiddleFeedbackRunTests
{
    private static readonly NetworkSpec Net = new("middle-feedback", new InputSpec(3, 8, 8),
    [
        new LayerSpec("c1", LayerKind.Conv, 8, LossPool: 2),
        new LayerSpec("c2", LayerKind.Conv, 8, MaxPool: 2, LossPool: 2),
        new LayerSpec("c3", LayerKind.Conv, 16, LossPool: 2),
        new LayerSpec("c4", LayerKind.Conv, 16, MaxPool: 2),
    ], [new EdgeSpec("c3", "c1"), new EdgeSpec("c4", "c2"), new EdgeSpec("c4", "c3")], "clapp++dfb");

    [Theory]
    [InlineData("clapp++dfb")]
    [InlineData("clapp++both")]
    public async Task The_first_update_of_every_layer_is_the_one_step_gradient_of_its_own_reference(string rule)
    {
        const float rate = 1e-3f;
        var spec = Net with { Rule = rule };
        var options = new RunOptions(1, BatchSize: 3, Seed: 9) { Schedule = new(MaxInFlight: 1), Optimizer = new(rate) };
        var initial = await Simulation.RunAsync(spec, options with { Steps = 0 }, () => new CpuBackend(threads: 1));
        var trained = await Simulation.RunAsync(spec, options, () => new CpuBackend(threads: 1));
        var batch = new SyntheticBatches(spec.Input, 3, 9).Batch(0);
        using var backend = new CpuBackend(threads: 1);
        var step = OneStep.Run(spec, GraphKind.Local, 9, new StepInputs(new NpyArray([.. batch.Views.Dims], batch.Views.Values.ToArray()), [.. batch.Negatives]), backend)
            .ToDictionary(a => a.Name, a => a.Array);
        foreach (var layer in spec.Layers.Select(l => l.Name))
        {
            // AdamW's first step (t = 1, no weight decay) moves each weight by -lr * g / (|g| + eps).
            var g = step[$"{layer}.weight.grad"].Values;
            var before = initial.Parameters[layer].Weight;
            var after = trained.Parameters[layer].Weight;
            int compared = 0;
            for (int i = 0; i < g.Length; i++)
            {
                if (Math.Abs(g[i]) < 1e-5f) continue; // the step's size there hangs on eps, not on the rule
                float expected = -rate * g[i] / (Math.Abs(g[i]) + 1e-8f);
                Assert.True(Math.Abs(after[i] - before[i] - expected) < 1e-6f, $"{rule} {layer} weight {i}: moved {after[i] - before[i]}, the one-step gradient {g[i]} gives {expected}");
                compared++;
            }
            Assert.True(compared > g.Length / 2, $"{layer}: only {compared} of {g.Length} gradients above 1e-5");
        }
    }
}
