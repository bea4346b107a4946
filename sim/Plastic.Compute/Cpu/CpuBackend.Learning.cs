using System.Numerics;
using System.Runtime.InteropServices;

namespace Plastic.Compute.Cpu;

public sealed partial class CpuBackend
{
    protected override void LogSoftmaxCore(Tensor logits, Tensor logProbabilities)
    {
        var z = T(logits).Span; var o = T(logProbabilities).Span;
        int k = logits.Shape[1];
        for (int r = 0; r < logits.Shape[0]; r++)
        {
            var row = z.Slice(r * k, k);
            float logSum = LogSumExp(row);
            for (int j = 0; j < k; j++) o[r * k + j] = row[j] - logSum;
        }
    }

    protected override double SoftmaxCrossEntropyCore(Tensor logits, IndexTensor labels, Tensor? gradLogits)
    {
        var z = T(logits).Span; var y = I(labels).Span;
        int n = logits.Shape[0], k = logits.Shape[1];
        var g = gradLogits is null ? Span<float>.Empty : T(gradLogits).Span;
        double loss = 0;
        for (int r = 0; r < n; r++)
        {
            int label = y[r];
            if ((uint)label >= (uint)k)
                throw new ArgumentException($"SoftmaxCrossEntropy: labels[{r}] = {label} is not a class index in [0, {k}).");
            var row = z.Slice(r * k, k);
            float logSum = LogSumExp(row);
            loss += logSum - row[label];
            if (gradLogits is null) continue;
            for (int j = 0; j < k; j++)
                g[r * k + j] = (MathF.Exp(row[j] - logSum) - (j == label ? 1f : 0f)) / n;
        }
        return loss / n;
    }

    private static float LogSumExp(ReadOnlySpan<float> row)
    {
        float max = float.NegativeInfinity;
        foreach (float v in row) max = MathF.Max(max, v);
        double sum = 0;
        foreach (float v in row) sum += MathF.Exp(v - max);
        return max + (float)Math.Log(sum);
    }

    protected override void SgdStepCore(Tensor parameter, Tensor gradient, Tensor? velocity, SgdSettings s)
    {
        var p = T(parameter); var g = T(gradient); var v = velocity is null ? null : T(velocity);
        Chunked(p.Length, (start, end) =>
        {
            var ps = p.Span; var gs = g.Span; var vs = v is null ? Span<float>.Empty : v.Span;
            for (int i = start; i < end; i++)
            {
                float step = gs[i] + s.WeightDecay * ps[i];
                if (v is not null) step = vs[i] = s.Momentum * vs[i] + step;
                ps[i] -= s.LearningRate * step;
            }
        });
    }

    protected override void AdamWStepCore(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWSettings s, int step)
    {
        var p = T(parameter); var g = T(gradient); var m = T(firstMoment); var v = T(secondMoment);
        float correction1 = 1f - MathF.Pow(s.Beta1, step);
        float correction2 = 1f - MathF.Pow(s.Beta2, step);
        float decay = 1f - s.LearningRate * s.WeightDecay;
        Chunked(p.Length, (start, end) => AdamW(p.Span[start..end], g.Span[start..end], m.Span[start..end], v.Span[start..end], s, correction1, correction2, decay));
    }

    /// <summary>
    /// AdamW over one chunk, one fused pass in vectors (the optimiser touches four arrays per
    /// parameter: memory, not arithmetic, sets its speed). The same operations in the same order as
    /// the scalar tail, so the result does not depend on the vector width.
    /// </summary>
    private static void AdamW(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, AdamWSettings s, float correction1, float correction2, float decay)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var b1 = new Vector<float>(s.Beta1); var b1c = new Vector<float>(1f - s.Beta1);
            var b2 = new Vector<float>(s.Beta2); var b2c = new Vector<float>(1f - s.Beta2);
            var c1 = new Vector<float>(correction1); var c2 = new Vector<float>(correction2);
            var eps = new Vector<float>(s.Epsilon); var lr = new Vector<float>(s.LearningRate); var dec = new Vector<float>(decay);
            var pv = MemoryMarshal.Cast<float, Vector<float>>(p);
            var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            var mv = MemoryMarshal.Cast<float, Vector<float>>(m);
            var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
            for (int k = 0; k < pv.Length; k++)
            {
                var gk = gv[k];
                var mk = b1 * mv[k] + b1c * gk;
                var vk = b2 * vv[k] + b2c * gk * gk;
                mv[k] = mk;
                vv[k] = vk;
                pv[k] = pv[k] * dec - lr * (mk / c1) / (Vector.SquareRoot(vk / c2) + eps);
            }
            i = pv.Length * Vector<float>.Count;
        }
        for (; i < p.Length; i++)
        {
            float mi = s.Beta1 * m[i] + (1f - s.Beta1) * g[i];
            float vi = s.Beta2 * v[i] + (1f - s.Beta2) * g[i] * g[i];
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] * decay - s.LearningRate * (mi / correction1) / (MathF.Sqrt(vi / correction2) + s.Epsilon);
        }
    }

    protected override void FillUniformCore(Tensor y, RandomStream stream, float low, float high)
    {
        var ys = T(y);
        float width = high - low;
        Chunked(y.Length, (s, e) =>
        {
            var o = ys.Span;
            for (int i = s; i < e; i++) o[i] = low + width * stream.Uniform((ulong)i);
        });
    }

    protected override void FillNormalCore(Tensor y, RandomStream stream, float mean, float standardDeviation)
    {
        var ys = T(y);
        Chunked(y.Length, (s, e) =>
        {
            var o = ys.Span;
            for (int i = s; i < e; i++) o[i] = mean + standardDeviation * stream.Normal((ulong)i);
        });
    }
}
