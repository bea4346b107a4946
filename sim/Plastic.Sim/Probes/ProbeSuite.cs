using Plastic.Compute;

namespace Plastic.Sim.Probes;

/// <summary>
/// How frozen encoders are probed: epochs of the linear probe, how many images (0: all), per-layer
/// probes besides the concatenated one, and k of a kNN classifier (0: none).
/// </summary>
public sealed record ProbeSettings(int Epochs = 20, int TrainImages = 0, int TestImages = 0, bool PerLayer = false, int Knn = 0)
{
    public void Validate(string where)
    {
        if (Epochs < 1) throw new ArgumentException($"{where}: probe epochs must be at least 1, got {Epochs}.");
        if (TrainImages < 0 || TestImages < 0) throw new ArgumentException($"{where}: probe image counts must be 0 (all) or more.");
        if (Knn < 0) throw new ArgumentException($"{where}: probe knn must be 0 (off) or the number of neighbours, got {Knn}.");
    }
}

/// <summary>A linear probe on one layer's features alone.</summary>
public sealed record LayerProbe(string Layer, ProbeResult Result);

/// <summary>
/// Everything a probe reports: the linear probe on every layer's features concatenated (PAPER.md 4.4),
/// the per-layer probes and the kNN accuracy when asked for.
/// </summary>
public sealed record ProbeReport(ProbeResult Concatenated, IReadOnlyList<LayerProbe> PerLayer, double? KnnAccuracy, int Knn, int Features, int TrainImages, int TestImages);

/// <summary>Runs the probes of <see cref="ProbeSettings"/> on features already computed by an encoder.</summary>
public static class ProbeSuite
{
    public static ProbeReport Run(IComputeBackend b, IReadOnlyList<string> layers, IReadOnlyList<int> layerSizes, float[] xTrain, byte[] yTrain,
        float[] xTest, byte[] yTest, int classes, ProbeSettings settings, ulong seed, Action<ProbeEpoch>? progress = null)
    {
        int size = layerSizes.Sum();
        // The concatenated probe standardises the features in place; the per-layer slices and kNN use them so.
        var concatenated = LinearProbe.Train(b, xTrain, yTrain, xTest, yTest, size, classes, settings.Epochs, seed, progress: progress);
        var perLayer = new List<LayerProbe>();
        if (settings.PerLayer)
        {
            int offset = 0;
            for (int l = 0; l < layers.Count; l++)
            {
                var train = Columns(xTrain, size, offset, layerSizes[l]);
                var test = Columns(xTest, size, offset, layerSizes[l]);
                perLayer.Add(new LayerProbe(layers[l], LinearProbe.Train(b, train, yTrain, test, yTest, layerSizes[l], classes, settings.Epochs, seed)));
                offset += layerSizes[l];
            }
        }
        double? knn = settings.Knn > 0 ? KnnClassifier.Accuracy(b, xTrain, yTrain, xTest, yTest, size, classes, settings.Knn) : null;
        return new ProbeReport(concatenated, perLayer, knn, settings.Knn, size, yTrain.Length, yTest.Length);
    }

    private static float[] Columns(float[] x, int width, int first, int count)
    {
        int n = x.Length / width;
        var slice = new float[(long)n * count];
        for (int i = 0; i < n; i++) Array.Copy(x, (long)i * width + first, slice, (long)i * count, count);
        return slice;
    }
}
