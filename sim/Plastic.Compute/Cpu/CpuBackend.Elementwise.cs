using System.Numerics;
using System.Runtime.InteropServices;
using System.Numerics.Tensors;

namespace Plastic.Compute.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>Element-wise work is memory bound; split only large tensors, in fixed-size chunks.</summary>
    private const int ElementChunk = 1 << 16;

    private void Chunked(int length, Action<int, int> body)
    {
        if (length <= ElementChunk) { body(0, length); return; }
        _parallel.ForRanges(length, ElementChunk, body);
    }

    protected override void ReluCore(Tensor x, Tensor y)
    {
        var xs = T(x); var ys = T(y);
        Chunked(x.Length, (s, e) => TensorPrimitives.Max(xs.Span[s..e], 0f, ys.Span[s..e]));
    }

    protected override void ReluMaskCore(Tensor y, Tensor mask)
    {
        var ys = T(y); var ms = T(mask);
        Chunked(y.Length, (s, e) => SelectWherePositive(ys.Span[s..e], ReadOnlySpan<float>.Empty, ms.Span[s..e]));
    }

    protected override void ReluBackwardCore(Tensor gradY, Tensor y, Tensor gradX)
    {
        var gs = T(gradY); var ys = T(y); var dx = T(gradX);
        Chunked(y.Length, (s, e) => SelectWherePositive(ys.Span[s..e], gs.Span[s..e], dx.Span[s..e]));
    }

    /// <summary>
    /// output[i] = value[i] where y[i] &gt; 0, else 0; with no values (the mask), 1 where y[i] &gt; 0. Vector selects:
    /// activations' signs are random, so a branch per element would mispredict half the time.
    /// </summary>
    private static void SelectWherePositive(ReadOnlySpan<float> y, ReadOnlySpan<float> value, Span<float> output)
    {
        bool mask = value.IsEmpty;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
            var vv = mask ? default : MemoryMarshal.Cast<float, Vector<float>>(value);
            var ov = MemoryMarshal.Cast<float, Vector<float>>(output);
            for (int k = 0; k < yv.Length; k++)
                ov[k] = Vector.ConditionalSelect(Vector.GreaterThan(yv[k], Vector<float>.Zero), mask ? Vector<float>.One : vv[k], Vector<float>.Zero);
            i = yv.Length * Vector<float>.Count;
        }
        for (; i < y.Length; i++) output[i] = y[i] > 0f ? (mask ? 1f : value[i]) : 0f;
    }

    protected override void AddBiasCore(Tensor x, Tensor bias, BiasLayout l)
    {
        var xs = T(x).Span; var b = T(bias).Span;
        for (int o = 0; o < l.Outer; o++)
        {
            if (l.Inner == 1)
            {
                var row = xs.Slice(o * l.Features, l.Features);
                TensorPrimitives.Add(row, b, row);
                continue;
            }
            for (int f = 0; f < l.Features; f++)
            {
                var plane = xs.Slice((o * l.Features + f) * l.Inner, l.Inner);
                TensorPrimitives.Add(plane, b[f], plane);
            }
        }
    }

    protected override void BiasGradientCore(Tensor gradY, Tensor gradBias, BiasLayout l, bool accumulate)
    {
        var gt = T(gradY); var dbt = T(gradBias);
        // Each feature summed in double, outer index ascending, by one thread: the same bits whatever the
        // thread count. Split between threads by feature only where there are values enough to pay (a
        // convolution's output gradient: megabytes, 0.5 ms a step on one thread for vgg6-cifar-small's block2).
        int grain = Math.Max(1, (int)Math.Min(l.Features, (long)ElementChunk * l.Features / Math.Max(1L, (long)gradY.Length)));
        _parallel.ForRanges(l.Features, grain, (f0, f1) =>
        {
            var g = gt.Span; var db = dbt.Span;
            for (int f = f0; f < f1; f++)
            {
                double sum = 0.0;
                for (int o = 0; o < l.Outer; o++)
                    sum += l.Inner == 1 ? g[o * l.Features + f] : TensorPrimitives.Sum(g.Slice((o * l.Features + f) * l.Inner, l.Inner));
                db[f] = (float)((accumulate ? db[f] : 0.0) + sum);
            }
        });
    }

    protected override void BinaryCore(BinaryOp op, Tensor a, Tensor b, Tensor y)
    {
        var at = T(a); var bt = T(b); var yt = T(y);
        Chunked(y.Length, (s, e) =>
        {
            var x1 = at.Span[s..e]; var x2 = bt.Span[s..e]; var o = yt.Span[s..e];
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(x1, x2, o); break;
                case BinaryOp.Subtract: TensorPrimitives.Subtract(x1, x2, o); break;
                case BinaryOp.Multiply: TensorPrimitives.Multiply(x1, x2, o); break;
                default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
            }
        });
    }

    protected override void ScaleCore(Tensor x, float factor, Tensor y)
    {
        var xs = T(x); var ys = T(y);
        Chunked(x.Length, (s, e) => TensorPrimitives.Multiply(xs.Span[s..e], factor, ys.Span[s..e]));
    }

    protected override void AxpyCore(float alpha, Tensor x, Tensor y)
    {
        var xs = T(x); var ys = T(y);
        Chunked(x.Length, (s, e) => TensorPrimitives.MultiplyAdd(xs.Span[s..e], alpha, ys.Span[s..e], ys.Span[s..e]));
    }

    protected override void FillCore(Tensor y, float value) => T(y).Span.Fill(value);
    protected override void CopyCore(Tensor source, Tensor destination) => CopyFloats(T(source).Span, T(destination).Span);

    /// <summary>Partial sums over fixed 4096-element blocks, combined in order in double precision.</summary>
    private const int ReductionBlock = 4096;

    protected override double SumCore(Tensor x)
    {
        var xs = T(x).Span;
        double total = 0;
        for (int s = 0; s < xs.Length; s += ReductionBlock)
            total += TensorPrimitives.Sum(xs.Slice(s, Math.Min(ReductionBlock, xs.Length - s)));
        return total;
    }

    protected override double DotCore(Tensor a, Tensor b)
    {
        var xs = T(a).Span; var ys = T(b).Span;
        double total = 0;
        for (int s = 0; s < xs.Length; s += ReductionBlock)
        {
            int len = Math.Min(ReductionBlock, xs.Length - s);
            total += TensorPrimitives.Dot(xs.Slice(s, len), ys.Slice(s, len));
        }
        return total;
    }
}
