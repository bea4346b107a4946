using Plastic.Compute;
using Plastic.Datasets.Augment;
using Plastic.Datasets.Readers;

namespace Plastic.Sim.Probes;

/// <summary>
/// The paper's probe protocol (PAPER.md 4.4, eval_ssl.py): every epoch each training image is cropped and
/// flipped afresh (<see cref="AugmentSettings.ForProbeTraining"/>, the project's view augmentation) and passed
/// through the frozen encoder, one minibatch at a time, so no feature array of the whole set exists; the
/// classifier sees the concatenated loss-pooled features as they come, not standardised; every batch of 32
/// counts, the last partial one too (a DataLoader without drop_last). Test images are not augmented; their
/// features do not change between epochs (the encoder is frozen), so they are computed once.
/// </summary>
public static class PaperProbe
{
    /// <summary>
    /// The view index of the probe's crops in <see cref="AugmentRandom"/>: the SSL pipeline draws views 0 and 1
    /// of the same (seed, epoch, image), so a probe crop is never one the encoder trained on.
    /// </summary>
    public const int AugmentView = 2;

    /// <summary>The input the encoder sees for training image <paramref name="index"/> in <paramref name="epoch"/> (from 1).</summary>
    public static void TrainingView(LabelledImages images, int index, int epoch, AugmentSettings probeAugment, ulong seed, Span<float> output) =>
        ViewAugmentation.Apply(images.Image(index), images.Channels, images.Height, images.Width, probeAugment,
            AugmentRandom.For(seed, epoch, index, AugmentView), output);

    /// <summary>The minibatches of one epoch: the first <paramref name="count"/> training images in the epoch's order, augmented, through the encoder.</summary>
    public static IEnumerable<ProbeBatch> Batches(EncoderFeatures encoder, LabelledImages images, int count, AugmentSettings probeAugment, ulong seed, int epoch, int batch)
    {
        var order = LinearProbe.Order(seed, epoch, count);
        int channels = images.Channels, size = probeAugment.Size, view = channels * size * size;
        for (int first = 0; first < count; first += batch)
        {
            int n = Math.Min(batch, count - first);
            var chosen = order[first..(first + n)];
            var inputs = new float[n * view];
            Parallel.For(0, n, i => TrainingView(images, chosen[i], epoch, probeAugment, seed, inputs.AsSpan(i * view, view)));
            yield return new ProbeBatch(epoch, chosen, encoder.Of(inputs, [n, channels, size, size]), [.. chosen.Select(i => images.Labels[i])]);
        }
    }

    public static ProbeReport Run(IComputeBackend b, EncoderFeatures encoder, IReadOnlyList<string> layers, LabelledImages train, LabelledImages test,
        AugmentSettings augment, ProbeSettings settings, ulong seed, Action<ProbeEpoch>? progress = null, Action<ProbeBatch>? observe = null)
    {
        var probeAugment = augment.ForProbeTraining();
        if (probeAugment.Size != train.Height || probeAugment.Size != train.Width || test.Height != train.Height || test.Width != train.Width)
            throw new ArgumentException($"paper probe protocol: the training crops are {probeAugment.Size}x{probeAugment.Size}, the training images " +
                $"{train.Height}x{train.Width} and the test images {test.Height}x{test.Width}; the encoder must see all of them at one size.");
        int count = ProbeFeatures.Count(train, settings.TrainImages);
        var (xTest, yTest) = ProbeFeatures.Of(encoder, test, augment, settings.TestImages);
        var heads = ProbeSuite.Heads(layers, encoder.LayerSizes, settings.PerLayer);
        var classifier = ProbeSuite.Classifier(ProbeProtocol.Paper);
        var results = LinearProbe.Train(b, heads, epoch => Batches(encoder, train, count, probeAugment, seed, epoch, classifier.Batch),
            xTest, yTest, train.Classes, settings.Epochs, seed, classifier, observe, progress);
        double? knn = settings.Knn > 0
            ? KnnClassifier.Accuracy(b, ProbeFeatures.Stream(encoder, train, augment, settings.TrainImages), count, xTest, yTest, train.Classes, settings.Knn)
            : null;
        return ProbeSuite.Report(ProbeProtocol.Paper, heads, results, knn, settings.Knn, count, yTest.Length);
    }
}
