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
        Chunked(p.Length, (start, end) =>
        {
            var ps = p.Span; var gs = g.Span; var ms = m.Span; var vs = v.Span;
            for (int i = start; i < end; i++)
            {
                ms[i] = s.Beta1 * ms[i] + (1f - s.Beta1) * gs[i];
                vs[i] = s.Beta2 * vs[i] + (1f - s.Beta2) * gs[i] * gs[i];
                float denominator = MathF.Sqrt(vs[i] / correction2) + s.Epsilon;
                ps[i] = ps[i] * decay - s.LearningRate * (ms[i] / correction1) / denominator;
            }
        });
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
