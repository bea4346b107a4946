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
/// A linear classifier on frozen features (PAPER.md 4.4: one linear layer with bias, cross-entropy,
/// Adam lr 1e-3, batch 32). Features are standardised with the training set's mean and std first (a
/// fixed affine map, so still a linear probe) and are computed once, without the paper's probe-time
/// augmentation: a cheaper probe, stated wherever its numbers are shown.
/// </summary>
public static class LinearProbe
{
    public static ProbeResult Train(IComputeBackend b, float[] train, byte[] trainLabels, float[] test, byte[] testLabels, int features, int classes,
        int epochs, ulong seed, int batch = 32, float learningRate = 1e-3f, Action<ProbeEpoch>? progress = null)
    {
        int nTrain = trainLabels.Length, nTest = testLabels.Length;
        Standardise(train, test, features);
        using var w = b.Allocate(new Shape(classes, features));
        using var bias = b.Allocate(new Shape(classes));
        float bound = 1f / MathF.Sqrt(features);
        b.FillUniform(w, new RandomStream(seed, 77), -bound, bound);
        b.FillUniform(bias, new RandomStream(seed, 78), -bound, bound);
        using var gw = b.Allocate(w.Shape); using var gb = b.Allocate(bias.Shape);
        using var mw = b.Allocate(w.Shape); using var vw = b.Allocate(w.Shape);
        using var mb = b.Allocate(bias.Shape); using var vb = b.Allocate(bias.Shape);
        b.Fill(mw, 0); b.Fill(vw, 0); b.Fill(mb, 0); b.Fill(vb, 0);
        var adam = new AdamWSettings(learningRate, WeightDecay: 0f);
        var epochsDone = new List<ProbeEpoch>();
        int step = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var order = new RandomStream(seed, 1000UL + (ulong)epoch).Permutation(nTrain);
            double lossSum = 0;
            int batches = 0;
            for (int first = 0; first + batch <= nTrain; first += batch)
            {
                var x = new float[batch * features];
                var y = new int[batch];
                for (int i = 0; i < batch; i++)
                {
                    int sample = order[first + i];
                    Array.Copy(train, (long)sample * features, x, (long)i * features, features);
                    y[i] = trainLabels[sample];
                }
                using var tx = b.Upload(x, new Shape(batch, features));
                using var ty = b.UploadIndices(y, new Shape(batch));
                using var logits = b.Allocate(new Shape(batch, classes));
                using var grad = b.Allocate(logits.Shape);
                b.Gemm(tx, false, w, true, logits);
                b.AddBias(logits, bias);
                lossSum += b.SoftmaxCrossEntropy(logits, ty, grad);
                b.Gemm(grad, true, tx, false, gw);
                b.BiasGradient(grad, gb);
                step++;
                b.AdamWStep(w, gw, mw, vw, adam, step);
                b.AdamWStep(bias, gb, mb, vb, adam, step);
                batches++;
            }
            var result = new ProbeEpoch(epoch + 1, lossSum / Math.Max(1, batches), Accuracy(b, w, bias, test, testLabels, features, classes));
            epochsDone.Add(result);
            progress?.Invoke(result);
        }
        return new ProbeResult(epochsDone);
    }

    private static double Accuracy(IComputeBackend b, Tensor w, Tensor bias, float[] test, byte[] labels, int features, int classes)
    {
        int n = labels.Length, correct = 0;
        const int chunk = 500;
        for (int first = 0; first < n; first += chunk)
        {
            int m = Math.Min(chunk, n - first);
            using var x = b.Upload(test.AsSpan(first * features, m * features), new Shape(m, features));
            using var logits = b.Allocate(new Shape(m, classes));
            b.Gemm(x, false, w, true, logits);
            b.AddBias(logits, bias);
            var values = logits.ToArray();
            for (int i = 0; i < m; i++)
            {
                int best = 0;
                for (int c = 1; c < classes; c++) if (values[i * classes + c] > values[i * classes + best]) best = c;
                if (best == labels[first + i]) correct++;
            }
        }
        return (double)correct / n;
    }

    /// <summary>Per-feature mean and std of the training features, applied to both sets (constant features are only centred).</summary>
    private static void Standardise(float[] train, float[] test, int features)
    {
        int n = train.Length / features;
        var mean = new double[features];
        var sq = new double[features];
        for (int i = 0; i < n; i++)
            for (int f = 0; f < features; f++) { double v = train[i * features + f]; mean[f] += v; sq[f] += v * v; }
        var scale = new float[features];
        for (int f = 0; f < features; f++)
        {
            mean[f] /= n;
            double std = Math.Sqrt(Math.Max(0, sq[f] / n - mean[f] * mean[f]));
            scale[f] = std > 1e-8 ? (float)(1 / std) : 1f;
        }
        foreach (var set in new[] { train, test })
            for (int i = 0; i < set.Length / features; i++)
                for (int f = 0; f < features; f++) set[i * features + f] = (set[i * features + f] - (float)mean[f]) * scale[f];
    }
}
