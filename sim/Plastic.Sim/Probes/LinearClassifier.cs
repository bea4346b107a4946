using Plastic.Compute;

namespace Plastic.Sim.Probes;

/// <summary>
/// How a probe's linear layer is trained (PAPER.md 4.4, both protocols): batch 32 and Adam lr 1e-3 as
/// eval_ssl.py; weight decay 0 (STL-10's script says so, the others leave PyTorch's default of 0), so the
/// backend's AdamW step is Adam.
/// </summary>
public sealed record ClassifierSettings(int Batch = 32, float LearningRate = 1e-3f, float WeightDecay = 0f)
{
    public AdamWSettings Adam => new(LearningRate, WeightDecay: WeightDecay);
}

/// <summary>
/// One nn.Linear(features, classes) with bias, trained with cross-entropy and Adam: PyTorch's default
/// initialisation (uniform in +-1/sqrt(features)), one optimiser step per <see cref="Step"/>.
/// </summary>
public sealed class LinearClassifier : IDisposable
{
    private readonly IComputeBackend _b;
    private readonly Tensor _w, _bias, _gw, _gb, _mw, _vw, _mb, _vb;

    public LinearClassifier(IComputeBackend backend, int features, int classes, ulong seed, ClassifierSettings settings)
    {
        _b = backend;
        Features = features; Classes = classes; Settings = settings;
        _w = backend.Allocate(new Shape(classes, features));
        _bias = backend.Allocate(new Shape(classes));
        float bound = 1f / MathF.Sqrt(features);
        backend.FillUniform(_w, new RandomStream(seed, 77), -bound, bound);
        backend.FillUniform(_bias, new RandomStream(seed, 78), -bound, bound);
        _gw = backend.Allocate(_w.Shape); _gb = backend.Allocate(_bias.Shape);
        _mw = backend.Allocate(_w.Shape); _vw = backend.Allocate(_w.Shape);
        _mb = backend.Allocate(_bias.Shape); _vb = backend.Allocate(_bias.Shape);
        foreach (var t in new[] { _mw, _vw, _mb, _vb }) backend.Fill(t, 0);
    }

    public int Features { get; }
    public int Classes { get; }
    public ClassifierSettings Settings { get; }

    /// <summary>The weights [Classes, Features], copied to the host.</summary>
    public float[] Weights() => _w.ToArray();

    /// <summary>Optimiser steps taken so far.</summary>
    public int Steps { get; private set; }

    /// <summary>One Adam step on the mean cross-entropy of a batch <paramref name="x"/> [n, Features]; returns that loss.</summary>
    public double Step(float[] x, ReadOnlySpan<byte> labels)
    {
        int n = labels.Length;
        var y = new int[n];
        for (int i = 0; i < n; i++) y[i] = labels[i];
        using var tx = _b.Upload(x, new Shape(n, Features));
        using var ty = _b.UploadIndices(y, new Shape(n));
        using var logits = _b.Allocate(new Shape(n, Classes));
        using var grad = _b.Allocate(logits.Shape);
        _b.Gemm(tx, false, _w, true, logits);
        _b.AddBias(logits, _bias);
        double loss = _b.SoftmaxCrossEntropy(logits, ty, grad);
        _b.Gemm(grad, true, tx, false, _gw);
        _b.BiasGradient(grad, _gb);
        Steps++;
        var adam = Settings.Adam;
        _b.AdamWStep(_w, _gw, _mw, _vw, adam, Steps);
        _b.AdamWStep(_bias, _gb, _mb, _vb, adam, Steps);
        return loss;
    }

    /// <summary>Share of <paramref name="test"/>'s rows whose largest logit is their label.</summary>
    public double Accuracy(FeatureRows test, byte[] labels)
    {
        int n = labels.Length, correct = 0;
        const int chunk = 500;
        for (int first = 0; first < n; first += chunk)
        {
            int m = Math.Min(chunk, n - first);
            using var x = _b.Upload(test.Copy(first, m), new Shape(m, Features));
            using var logits = _b.Allocate(new Shape(m, Classes));
            _b.Gemm(x, false, _w, true, logits);
            _b.AddBias(logits, _bias);
            var values = logits.ToArray();
            for (int i = 0; i < m; i++)
            {
                int best = 0;
                for (int c = 1; c < Classes; c++) if (values[i * Classes + c] > values[i * Classes + best]) best = c;
                if (best == labels[first + i]) correct++;
            }
        }
        return (double)correct / n;
    }

    public void Dispose()
    {
        foreach (var t in new[] { _w, _bias, _gw, _gb, _mw, _vw, _mb, _vb }) t.Dispose();
    }
}
