using Plastic.Compute;

namespace Plastic.Sim.Probes;

/// <summary>One epoch of a probe: its mean training loss and its accuracy on the test features.</summary>
public sealed record ProbeEpoch(int Epoch, double TrainLoss, double TestAccuracy);

/// <summary>What a probe reached: every epoch, the final test accuracy and the best one (with its epoch), labelled as such.</summary>
public sealed record ProbeResult(IReadOnlyList<ProbeEpoch> Epochs)
{
    public double FinalAccuracy => Epochs[^1].TestAccuracy;
    public ProbeEpoch Best => Epochs.MaxBy(e => e.TestAccuracy)!;
}

/// <summary>
/// One minibatch as the classifiers see it: epoch (from 1), the training images it holds (indices into
/// the split), their features [Images.Length, all features] and labels. Nobody writes it after it is made.
/// </summary>
public sealed record ProbeBatch(int Epoch, int[] Images, float[] Features, byte[] Labels);

/// <summary>A linear classifier on columns [First, First + Width) of the features: all of them, or one layer's.</summary>
public sealed record ProbeHead(string Name, int First, int Width);

/// <summary>
/// The training loop shared by both protocols: each epoch, every head takes one Adam step per minibatch
/// that the protocol's batch source delivers, then is tested on the test features. The heads share
/// every batch, so per-layer probes cost no extra encoder passes.
/// </summary>
public static class LinearProbe
{
    /// <summary>
    /// Trains one <see cref="LinearClassifier"/> per head on the batches of <paramref name="epochBatches"/>
    /// (called with the epoch, from 1); <paramref name="observe"/> sees each batch before the heads do,
    /// <paramref name="progress"/> each epoch of the first head.
    /// </summary>
    public static IReadOnlyList<ProbeResult> Train(IComputeBackend b, IReadOnlyList<ProbeHead> heads, Func<int, IEnumerable<ProbeBatch>> epochBatches,
        FeatureRows test, byte[] testLabels, int classes, int epochs, ulong seed, ClassifierSettings settings,
        Action<ProbeBatch>? observe = null, Action<ProbeEpoch>? progress = null)
    {
        int features = test.Width;
        var classifiers = new List<LinearClassifier>();
        try
        {
            foreach (var head in heads) classifiers.Add(new LinearClassifier(b, head.Width, classes, seed, settings));
            var done = heads.Select(_ => new List<ProbeEpoch>()).ToList();
            for (int epoch = 1; epoch <= epochs; epoch++)
            {
                var loss = new double[heads.Count];
                int batches = 0;
                foreach (var batch in epochBatches(epoch))
                {
                    observe?.Invoke(batch);
                    for (int h = 0; h < heads.Count; h++)
                    {
                        var x = heads[h].Width == features ? batch.Features : Columns(batch.Features, features, heads[h].First, heads[h].Width);
                        loss[h] += classifiers[h].Step(x, batch.Labels);
                    }
                    batches++;
                }
                for (int h = 0; h < heads.Count; h++)
                {
                    var result = new ProbeEpoch(epoch, loss[h] / Math.Max(1, batches),
                        classifiers[h].Accuracy(test.Columns(heads[h].First, heads[h].Width), testLabels));
                    done[h].Add(result);
                    if (h == 0) progress?.Invoke(result);
                }
            }
            return done.Select(d => new ProbeResult(d)).ToList();
        }
        finally
        {
            classifiers.ForEach(c => c.Dispose());
        }
    }

    /// <summary>
    /// The fast protocol's probe of all features: standardises both sets in place (<see cref="Standardise"/>),
    /// then trains one head on <see cref="FastBatches"/>.
    /// </summary>
    public static ProbeResult Train(IComputeBackend b, FeatureRows train, byte[] trainLabels, FeatureRows test, byte[] testLabels, int classes,
        int epochs, ulong seed, Action<ProbeEpoch>? progress = null)
    {
        Standardise(train, test);
        var settings = ProbeSuite.Classifier(ProbeProtocol.Fast);
        return Train(b, [new ProbeHead("all", 0, train.Width)], epoch => FastBatches(train, trainLabels, seed, epoch, settings.Batch),
            test, testLabels, classes, epochs, seed, settings, progress: progress)[0];
    }

    /// <summary>The order of the training images in an epoch (from 1): a permutation drawn from (seed, 1000 + epoch - 1).</summary>
    public static int[] Order(ulong seed, int epoch, int count) => new RandomStream(seed, 1000UL + (ulong)(epoch - 1)).Permutation(count);

    /// <summary>The fast protocol's batches: rows of features computed once, in the epoch's order; a last partial batch is dropped.</summary>
    public static IEnumerable<ProbeBatch> FastBatches(FeatureRows train, byte[] labels, ulong seed, int epoch, int batch)
    {
        var order = Order(seed, epoch, train.Count);
        for (int first = 0; first + batch <= train.Count; first += batch)
        {
            var images = order[first..(first + batch)];
            yield return new ProbeBatch(epoch, images, train.Gather(images), [.. images.Select(i => labels[i])]);
        }
    }

    /// <summary>
    /// The fast protocol's standardisation: per-feature mean and std of the training rows, applied to both sets
    /// in place (a fixed affine map, so the probe stays linear); constant features are only centred.
    /// </summary>
    public static void Standardise(FeatureRows train, FeatureRows test)
    {
        int features = train.Width;
        var mean = new double[features];
        var sq = new double[features];
        for (int i = 0; i < train.Count; i++)
        {
            var row = train.Row(i);
            for (int f = 0; f < features; f++) { double v = row[f]; mean[f] += v; sq[f] += v * v; }
        }
        var scale = new float[features];
        var shift = new float[features];
        for (int f = 0; f < features; f++)
        {
            mean[f] /= train.Count;
            double std = Math.Sqrt(Math.Max(0, sq[f] / train.Count - mean[f] * mean[f]));
            scale[f] = std > 1e-8 ? (float)(1 / std) : 1f;
            shift[f] = (float)mean[f];
        }
        foreach (var set in new[] { train, test })
            for (int i = 0; i < set.Count; i++)
            {
                var row = set.Row(i);
                for (int f = 0; f < features; f++) row[f] = (row[f] - shift[f]) * scale[f];
            }
    }

    private static float[] Columns(float[] x, int width, int first, int count)
    {
        int n = x.Length / width;
        var slice = new float[n * count];
        for (int i = 0; i < n; i++) Array.Copy(x, i * width + first, slice, i * count, count);
        return slice;
    }
}
