using System.Collections.Immutable;
using Plastic.Compute.Cpu;
using Plastic.Sim.Actors;
using Plastic.Sim.Probes;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>The frozen encoder's features and the fast protocol's linear probe, per-layer probes and kNN on top of them.</summary>
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
        var result = LinearProbe.Train(backend, FeatureRows.From(xTrain, 8), yTrain, FeatureRows.From(xTest, 8), yTest, 3, epochs: 40, seed: 1);
        Assert.Equal(40, result.Epochs.Count);
        Assert.True(result.FinalAccuracy > 0.95, $"accuracy {result.FinalAccuracy}");
        Assert.Equal(result.Epochs.Max(e => e.TestAccuracy), result.Best.TestAccuracy);
        Assert.True(result.Epochs[^1].TrainLoss < result.Epochs[0].TrainLoss);
    }

    [Fact]
    public void Knn_takes_the_majority_of_the_most_cosine_similar_training_samples()
    {
        // Three directions in 4 dimensions; test points near them, one of them on the boundary-free side of
        // its class even with a little noise. Magnitudes differ wildly: cosine ignores them.
        var train = new float[] { 1, 0, 0, 0, 9, 0.1f, 0, 0, 0, 1, 0, 0, 0, 7, 0.2f, 0, 0, 0, 1, 0, 0, 0.1f, 5, 0 };
        var trainLabels = new byte[] { 0, 0, 1, 1, 2, 2 };
        var test = new float[] { 3, 0.2f, 0, 0, 0, 0.01f, 0, 0, 0, 0.3f, 40, 0 };
        var testLabels = new byte[] { 0, 1, 2 };
        using var backend = new CpuBackend(threads: 1);
        double Knn(byte[] labels, int k, int rowsPerBlock = 6) =>
            KnnClassifier.Accuracy(backend, Enumerable.Range(0, 6 / rowsPerBlock).Select(b => (train[(b * rowsPerBlock * 4)..((b + 1) * rowsPerBlock * 4)],
                trainLabels[(b * rowsPerBlock)..((b + 1) * rowsPerBlock)])), 6, FeatureRows.From(test, 4), labels, 3, k);
        Assert.Equal(1.0, Knn(testLabels, 2));
        // k = all six: every class has two votes; the tie goes to the class of the nearest sample.
        Assert.Equal(1.0, Knn(testLabels, 6));
        var wrongLabels = new byte[] { 1, 0, 2 };
        Assert.Equal(1.0 / 3, Knn(wrongLabels, 2), 10);
        // The training rows one block at a time (as they stream from the encoder) give the same votes.
        Assert.Equal(1.0, Knn(testLabels, 2, rowsPerBlock: 1));
        Assert.Equal(1.0, Knn(testLabels, 6, rowsPerBlock: 2));
        Assert.Equal(1.0 / 3, Knn(wrongLabels, 2, rowsPerBlock: 3), 10);
        Assert.Contains("k = 7", Assert.Throws<ArgumentException>(() => Knn(testLabels, 7)).Message);
    }

    [Fact]
    public void Per_layer_probes_see_only_their_layers_columns()
    {
        // Layer a's two features carry the class; layer b's three are noise.
        var random = new Random(8);
        (float[] X, byte[] Y) Set(int n)
        {
            var x = new float[n * 5];
            var y = new byte[n];
            for (int i = 0; i < n; i++)
            {
                y[i] = (byte)(i % 2);
                x[i * 5] = y[i] == 0 ? 2 : -2;
                x[i * 5 + 1] = (float)random.NextDouble();
                for (int f = 2; f < 5; f++) x[i * 5 + f] = (float)random.NextDouble();
            }
            return (x, y);
        }
        var (xTrain, yTrain) = Set(400);
        var (xTest, yTest) = Set(100);
        using var backend = new CpuBackend(threads: 1);
        // 40 epochs of 12 Adam steps at lr 1e-3 (fewer leave even the separable layer near chance, as in the test above).
        var report = ProbeSuite.Fast(backend, ["a", "b"], [2, 3], FeatureRows.From(xTrain, 5), yTrain, FeatureRows.From(xTest, 5), yTest, 2,
            new ProbeSettings(Epochs: 40, PerLayer: true, Knn: 5), seed: 1);
        Assert.Equal(["a", "b"], report.PerLayer.Select(l => l.Layer));
        Assert.True(report.PerLayer[0].Result.FinalAccuracy > 0.95, $"layer a {report.PerLayer[0].Result.FinalAccuracy}");
        Assert.InRange(report.PerLayer[1].Result.FinalAccuracy, 0.3, 0.7);
        Assert.True(report.Concatenated.FinalAccuracy > 0.95);
        Assert.Equal((5, 400, 100), (report.Features, report.TrainImages, report.TestImages));
        Assert.NotNull(report.KnnAccuracy);
        Assert.Equal(ProbeProtocol.Fast, report.Protocol);
    }
}
