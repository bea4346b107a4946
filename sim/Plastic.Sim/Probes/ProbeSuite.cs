using Plastic.Compute;
using Plastic.Datasets.Augment;
using Plastic.Datasets.Readers;

namespace Plastic.Sim.Probes;

/// <summary>
/// How frozen encoders are probed: epochs of the linear probe, how many images (0: all), per-layer
/// probes besides the concatenated one, k of a kNN classifier (0: none), and the protocol (fast by default:
/// what CI and the quickstart can afford; paper costs about epochs times the encoder passes).
/// </summary>
public sealed record ProbeSettings(int Epochs = 20, int TrainImages = 0, int TestImages = 0, bool PerLayer = false, int Knn = 0,
    ProbeProtocol Protocol = ProbeProtocol.Fast)
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
/// Everything a probe reports, under the protocol that made it: the linear probe on every layer's features
/// concatenated (PAPER.md 4.4), the per-layer probes and the kNN accuracy when asked for.
/// </summary>
public sealed record ProbeReport(ProbeProtocol Protocol, ProbeResult Concatenated, IReadOnlyList<LayerProbe> PerLayer, double? KnnAccuracy, int Knn,
    int Features, int TrainImages, int TestImages);

/// <summary>Runs the probes of <see cref="ProbeSettings"/> under its protocol.</summary>
public static class ProbeSuite
{
    /// <summary>The classifier's training of a protocol: both use PAPER.md 4.4's (batch 32, Adam lr 1e-3, no weight decay).</summary>
    public static ClassifierSettings Classifier(ProbeProtocol protocol) => new();

    /// <summary>The probes of <paramref name="settings"/> on the frozen <paramref name="encoder"/> (whose layers are <paramref name="layers"/>).</summary>
    public static ProbeReport Run(IComputeBackend b, EncoderFeatures encoder, IReadOnlyList<string> layers, LabelledImages train, LabelledImages test,
        AugmentSettings augment, ProbeSettings settings, ulong seed, Action<ProbeEpoch>? progress = null, Action<ProbeBatch>? observe = null)
    {
        if (settings.Protocol == ProbeProtocol.Paper) return PaperProbe.Run(b, encoder, layers, train, test, augment, settings, seed, progress, observe);
        var (xTrain, yTrain) = ProbeFeatures.Of(encoder, train, augment, settings.TrainImages);
        var (xTest, yTest) = ProbeFeatures.Of(encoder, test, augment, settings.TestImages);
        return Fast(b, layers, encoder.LayerSizes, xTrain, yTrain, xTest, yTest, train.Classes, settings, seed, progress, observe);
    }

    /// <summary>
    /// The fast protocol on features already computed: standardised in place (training set's statistics),
    /// then the linear probes on the same rows every epoch, and kNN on the standardised rows.
    /// </summary>
    public static ProbeReport Fast(IComputeBackend b, IReadOnlyList<string> layers, IReadOnlyList<int> layerSizes, FeatureRows xTrain, byte[] yTrain,
        FeatureRows xTest, byte[] yTest, int classes, ProbeSettings settings, ulong seed, Action<ProbeEpoch>? progress = null, Action<ProbeBatch>? observe = null)
    {
        LinearProbe.Standardise(xTrain, xTest);
        var heads = Heads(layers, layerSizes, settings.PerLayer);
        var classifier = Classifier(ProbeProtocol.Fast);
        var results = LinearProbe.Train(b, heads, epoch => LinearProbe.FastBatches(xTrain, yTrain, seed, epoch, classifier.Batch),
            xTest, yTest, classes, settings.Epochs, seed, classifier, observe, progress);
        double? knn = settings.Knn > 0 ? KnnClassifier.Accuracy(b, KnnClassifier.Blocks(xTrain, yTrain), xTrain.Count, xTest, yTest, classes, settings.Knn) : null;
        return Report(ProbeProtocol.Fast, heads, results, knn, settings.Knn, yTrain.Length, yTest.Length);
    }

    /// <summary>The concatenated head, then (when asked) one head per layer on its columns.</summary>
    internal static IReadOnlyList<ProbeHead> Heads(IReadOnlyList<string> layers, IReadOnlyList<int> layerSizes, bool perLayer)
    {
        var heads = new List<ProbeHead> { new("all", 0, layerSizes.Sum()) };
        if (!perLayer) return heads;
        int offset = 0;
        for (int l = 0; l < layers.Count; l++)
        {
            heads.Add(new ProbeHead(layers[l], offset, layerSizes[l]));
            offset += layerSizes[l];
        }
        return heads;
    }

    internal static ProbeReport Report(ProbeProtocol protocol, IReadOnlyList<ProbeHead> heads, IReadOnlyList<ProbeResult> results, double? knn, int k,
        int trainImages, int testImages) =>
        new(protocol, results[0], [.. heads.Skip(1).Zip(results.Skip(1), (h, r) => new LayerProbe(h.Name, r))], knn, k, heads[0].Width, trainImages, testImages);
}
