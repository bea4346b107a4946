using System.Collections.Immutable;
using Plastic.Compute.Cpu;
using Plastic.Sim.Actors;
using Plastic.Sim.Probes;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>The frozen encoder's features and the linear probe on top of them.</summary>
public sealed class ProbeTests
{
    [Fact]
    public void Features_are_every_layers_loss_pooled_output_and_parameters_must_fit()
    {
        var spec = Presets.Vgg6(32, 0.0625);
        using var backend = new CpuBackend(threads: 1);
        using var encoder = new EncoderFeatures(spec, backend, 3);
        var shapes = NetworkValidator.Validate(spec);
        Assert.Equal(shapes.Select(s => s.LossFeatures.Size), encoder.LayerSizes);
        var x = Enumerable.Range(0, 2 * 3 * 32 * 32).Select(i => (float)Math.Sin(i)).ToArray();
        var features = encoder.Of(x, [2, 3, 32, 32]);
        Assert.Equal(2 * encoder.Size, features.Length);
        Assert.Contains(features, v => v != 0);

        var wrong = spec.Layers.ToImmutableDictionary(l => l.Name, l => new Parameters(l.Name, [1f, 2f], []));
        var e = Assert.Throws<ArgumentException>(() => new EncoderFeatures(spec, backend, 3, wrong));
        Assert.Contains("parameters of 2 weights", e.Message);
    }

    [Fact]
    public void The_probe_learns_a_linearly_separable_problem_and_reports_final_and_best_epochs()
    {
        // One blob per class in 8 dimensions, 3 classes; 40 epochs of 9 Adam steps at lr 1e-3 (the initial
        // random weights are about 0.35: 5 epochs moved them too little, 63% on the test set).
        var random = new Random(4);
        (float[] X, byte[] Y) Set(int n)
        {
            var x = new float[n * 8];
            var y = new byte[n];
            for (int i = 0; i < n; i++)
            {
                y[i] = (byte)(i % 3);
                for (int f = 0; f < 8; f++) x[i * 8 + f] = (float)(random.NextDouble() - 0.5 + (f == y[i] ? 3 : 0));
            }
            return (x, y);
        }
        var (xTrain, yTrain) = Set(300);
        var (xTest, yTest) = Set(150);
        using var backend = new CpuBackend(threads: 1);
        var result = LinearProbe.Train(backend, xTrain, yTrain, xTest, yTest, 8, 3, epochs: 40, seed: 1);
        Assert.Equal(40, result.Epochs.Count);
        Assert.True(result.FinalAccuracy > 0.95, $"accuracy {result.FinalAccuracy}");
        Assert.Equal(result.Epochs.Max(e => e.TestAccuracy), result.Best.TestAccuracy);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss);
    }
}
