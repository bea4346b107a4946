using ILGPU;
using ILGPU.Algorithms;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// The ILGPU kernels: one thread per output element, except the tiled GEMM. Every sum runs in a
/// fixed order inside one thread (no atomics), so results are the same from run to run. Compiled
/// once per accelerator.
/// </summary>
internal static partial class IlgpuKernels
{
    /// <summary>Output tile of one group (GemmTile x GemmTile), its K step, and the outputs per thread per side.</summary>
    public const int GemmTile = 64, GemmDepth = 16, GemmPerThread = 4, GemmThreads = GemmTile / GemmPerThread;

    /// <summary>
    /// Tiled GEMM, explicitly grouped: 16 x 16 threads per group compute a 64 x 64 tile of C, each
    /// thread a 4 x 4 block held in registers, with 64 x 16 slices of A and B staged in shared memory.
    /// </summary>
    public static void GemmTiled(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs g)
    {
        var sa = SharedMemory.Allocate<float>(GemmDepth * GemmTile); // [k][row]
        var sb = SharedMemory.Allocate<float>(GemmDepth * GemmTile); // [k][column]
        int tx = Group.IdxX, ty = Group.IdxY, tid = ty * GemmThreads + tx;
        int rowBase = Grid.IdxY * GemmTile, colBase = Grid.IdxX * GemmTile;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int k0 = 0; k0 < g.K; k0 += GemmDepth)
        {
            for (int e = tid; e < GemmDepth * GemmTile; e += GemmThreads * GemmThreads)
            {
                int r = e / GemmDepth, kk = e % GemmDepth, gr = rowBase + r, gk = k0 + kk;
                sa[kk * GemmTile + r] = gr < g.M && gk < g.K ? (g.TransA != 0 ? a[gk * g.ACols + gr] : a[gr * g.ACols + gk]) : 0f;
                int col = e % GemmTile, kb = e / GemmTile, gc = colBase + col, gkb = k0 + kb;
                sb[kb * GemmTile + col] = gkb < g.K && gc < g.N ? (g.TransB != 0 ? b[gc * g.BCols + gkb] : b[gkb * g.BCols + gc]) : 0f;
            }
            Group.Barrier();
            for (int kk = 0; kk < GemmDepth; kk++)
            {
                int ar = kk * GemmTile + ty * GemmPerThread, bc = kk * GemmTile + tx * GemmPerThread;
                float a0 = sa[ar], a1 = sa[ar + 1], a2 = sa[ar + 2], a3 = sa[ar + 3];
                float b0 = sb[bc], b1 = sb[bc + 1], b2 = sb[bc + 2], b3 = sb[bc + 3];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }
        int row = rowBase + ty * GemmPerThread, column = colBase + tx * GemmPerThread;
        StoreRow(c, g, row, column, c00, c01, c02, c03);
        StoreRow(c, g, row + 1, column, c10, c11, c12, c13);
        StoreRow(c, g, row + 2, column, c20, c21, c22, c23);
        StoreRow(c, g, row + 3, column, c30, c31, c32, c33);
    }

    private static void StoreRow(ArrayView<float> c, GemmArgs g, int row, int column, float v0, float v1, float v2, float v3)
    {
        if (row >= g.M) return;
        Store(c, g, row, column, v0);
        Store(c, g, row, column + 1, v1);
        Store(c, g, row, column + 2, v2);
        Store(c, g, row, column + 3, v3);
    }

    private static void Store(ArrayView<float> c, GemmArgs g, int row, int column, float sum)
    {
        if (column >= g.N) return;
        int at = row * g.N + column;
        c[at] = g.Beta == 0f ? g.Alpha * sum : g.Alpha * sum + g.Beta * c[at];
    }

    public static void ConvForward(Index1D i, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, ConvArgs d, int hasBias)
    {
        int ow = i % d.Wo, oh = i / d.Wo % d.Ho, co = i / (d.Wo * d.Ho) % d.Cout, n = i / (d.Wo * d.Ho * d.Cout);
        float sum = hasBias != 0 ? bias[co] : 0f;
        for (int ci = 0; ci < d.Cin; ci++)
            for (int kh = 0; kh < d.K; kh++)
            {
                int ih = oh * d.Stride - d.Pad + kh;
                if (ih < 0 || ih >= d.H) continue;
                for (int kw = 0; kw < d.K; kw++)
                {
                    int iw = ow * d.Stride - d.Pad + kw;
                    if (iw < 0 || iw >= d.W) continue;
                    sum += x[((n * d.Cin + ci) * d.H + ih) * d.W + iw] * w[((co * d.Cin + ci) * d.K + kh) * d.K + kw];
                }
            }
        y[i] = sum;
    }

    public static void ConvBackwardInput(Index1D i, ArrayView<float> dy, ArrayView<float> w, ArrayView<float> dx, ConvArgs d)
    {
        int iw = i % d.W, ih = i / d.W % d.H, ci = i / (d.W * d.H) % d.Cin, n = i / (d.W * d.H * d.Cin);
        float sum = 0f;
        for (int co = 0; co < d.Cout; co++)
            for (int kh = 0; kh < d.K; kh++)
            {
                int oh = OutputReading(ih, kh, d.Pad, d.Stride, d.Ho);
                if (oh < 0) continue;
                for (int kw = 0; kw < d.K; kw++)
                {
                    int ow = OutputReading(iw, kw, d.Pad, d.Stride, d.Wo);
                    if (ow < 0) continue;
                    sum += dy[((n * d.Cout + co) * d.Ho + oh) * d.Wo + ow] * w[((co * d.Cin + ci) * d.K + kh) * d.K + kw];
                }
            }
        dx[i] = sum;
    }

    public static void ConvBackwardWeight(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dw, ConvArgs d, int accumulate)
    {
        int kw = i % d.K, kh = i / d.K % d.K, ci = i / (d.K * d.K) % d.Cin, co = i / (d.K * d.K * d.Cin);
        float sum = 0f;
        for (int n = 0; n < d.N; n++)
            for (int oh = 0; oh < d.Ho; oh++)
            {
                int ih = oh * d.Stride - d.Pad + kh;
                if (ih < 0 || ih >= d.H) continue;
                for (int ow = 0; ow < d.Wo; ow++)
                {
                    int iw = ow * d.Stride - d.Pad + kw;
                    if (iw < 0 || iw >= d.W) continue;
                    sum += dy[((n * d.Cout + co) * d.Ho + oh) * d.Wo + ow] * x[((n * d.Cin + ci) * d.H + ih) * d.W + iw];
                }
            }
        dw[i] = accumulate != 0 ? dw[i] + sum : sum;
    }

    public static void MaxPoolForward(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<int> argmax, PoolArgs d)
    {
        int ow = i % d.Wo, oh = i / d.Wo % d.Ho, p = i / (d.Wo * d.Ho);
        int best = (p * d.H + oh * d.Stride) * d.W + ow * d.Stride;
        float bestValue = x[best];
        for (int kh = 0; kh < d.K; kh++)
            for (int kw = 0; kw < d.K; kw++)
            {
                int at = (p * d.H + oh * d.Stride + kh) * d.W + ow * d.Stride + kw;
                float v = x[at];
                if (v > bestValue || float.IsNaN(v)) { bestValue = v; best = at; }
            }
        y[i] = bestValue;
        argmax[i] = best;
    }

    /// <summary>One thread per input element: sums the output gradients of the windows whose maximum it was.</summary>
    public static void MaxPoolBackward(Index1D i, ArrayView<float> dy, ArrayView<int> argmax, ArrayView<float> dx, PoolArgs d)
    {
        int iw = i % d.W, ih = i / d.W % d.H, p = i / (d.W * d.H);
        float sum = 0f;
        for (int oh = 0; oh < d.Ho; oh++)
        {
            if (ih < oh * d.Stride || ih >= oh * d.Stride + d.K) continue;
            for (int ow = 0; ow < d.Wo; ow++)
            {
                if (iw < ow * d.Stride || iw >= ow * d.Stride + d.K) continue;
                int o = (p * d.Ho + oh) * d.Wo + ow;
                if (argmax[o] == i) sum += dy[o];
            }
        }
        dx[i] = sum;
    }

    public static void AvgPoolForward(Index1D i, ArrayView<float> x, ArrayView<float> y, PoolArgs d)
    {
        int ow = i % d.Wo, oh = i / d.Wo % d.Ho, p = i / (d.Wo * d.Ho);
        float sum = 0f;
        for (int kh = 0; kh < d.K; kh++)
            for (int kw = 0; kw < d.K; kw++)
                sum += x[(p * d.H + oh * d.Stride + kh) * d.W + ow * d.Stride + kw];
        y[i] = sum / (d.K * d.K);
    }

    public static void AvgPoolBackward(Index1D i, ArrayView<float> dy, ArrayView<float> dx, PoolArgs d)
    {
        int iw = i % d.W, ih = i / d.W % d.H, p = i / (d.W * d.H);
        float sum = 0f;
        for (int oh = 0; oh < d.Ho; oh++)
        {
            if (ih < oh * d.Stride || ih >= oh * d.Stride + d.K) continue;
            for (int ow = 0; ow < d.Wo; ow++)
                if (iw >= ow * d.Stride && iw < ow * d.Stride + d.K) sum += dy[(p * d.Ho + oh) * d.Wo + ow];
        }
        dx[i] = sum / (d.K * d.K);
    }

    public static void Relu(Index1D i, ArrayView<float> x, ArrayView<float> y) => y[i] = x[i] > 0f ? x[i] : 0f;
    public static void ReluMask(Index1D i, ArrayView<float> y, ArrayView<float> mask) => mask[i] = y[i] > 0f ? 1f : 0f;
    public static void ReluBackward(Index1D i, ArrayView<float> dy, ArrayView<float> y, ArrayView<float> dx) => dx[i] = y[i] > 0f ? dy[i] : 0f;

    public static void AddBias(Index1D i, ArrayView<float> x, ArrayView<float> bias, BiasArgs l) =>
        x[i] += bias[i / l.Inner % l.Features];

    public static void BiasGradient(Index1D f, ArrayView<float> g, ArrayView<float> db, BiasArgs l, int accumulate)
    {
        float sum = 0f;
        for (int o = 0; o < l.Outer; o++)
            for (int j = 0; j < l.Inner; j++)
                sum += g[(o * l.Features + f) * l.Inner + j];
        db[f] = accumulate != 0 ? db[f] + sum : sum;
    }

    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int op) =>
        y[i] = op == 0 ? a[i] + b[i] : op == 1 ? a[i] - b[i] : a[i] * b[i];

    public static void Scale(Index1D i, ArrayView<float> x, ArrayView<float> y, float factor) => y[i] = x[i] * factor;
    public static void Axpy(Index1D i, ArrayView<float> x, ArrayView<float> y, float alpha) => y[i] += alpha * x[i];
    public static void Fill(Index1D i, ArrayView<float> y, float value) => y[i] = value;

    /// <summary>Partial sums (or dot products, when <paramref name="dot"/> is 1) over fixed blocks; the host adds the blocks in order.</summary>
    public static void BlockSums(Index1D block, ArrayView<float> a, ArrayView<float> b, ArrayView<double> partials, int length, int blockSize, int dot)
    {
        int start = block * blockSize, end = XMath.Min(length, start + blockSize);
        float sum = 0f;
        for (int j = start; j < end; j++) sum += dot != 0 ? a[j] * b[j] : a[j];
        partials[block] = sum;
    }

    public static void LogSoftmax(Index1D row, ArrayView<float> z, ArrayView<float> o, int classes)
    {
        float logSum = LogSumExp(z, row * classes, classes);
        for (int j = 0; j < classes; j++) o[row * classes + j] = z[row * classes + j] - logSum;
    }

    public static void CrossEntropy(Index1D row, ArrayView<float> z, ArrayView<int> labels, ArrayView<float> grad, ArrayView<double> rowLoss, int classes, int rows, int writeGrad)
    {
        int label = labels[row];
        if (label < 0 || label >= classes) { rowLoss[row] = double.NaN; return; }
        int start = row * classes;
        float logSum = LogSumExp(z, start, classes);
        rowLoss[row] = logSum - z[start + label];
        if (writeGrad == 0) return;
        for (int j = 0; j < classes; j++)
            grad[start + j] = (XMath.Exp(z[start + j] - logSum) - (j == label ? 1f : 0f)) / rows;
    }

    /// <summary>The output coordinate whose kernel offset <paramref name="k"/> reads input coordinate <paramref name="i"/>; -1 for none.</summary>
    private static int OutputReading(int i, int k, int pad, int stride, int outputs)
    {
        int shifted = i + pad - k;
        if (shifted < 0 || shifted % stride != 0) return -1;
        int o = shifted / stride;
        return o < outputs ? o : -1;
    }

    private static float LogSumExp(ArrayView<float> z, int start, int count)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < count; j++) max = XMath.Max(max, z[start + j]);
        float sum = 0f;
        for (int j = 0; j < count; j++) sum += XMath.Exp(z[start + j] - max);
        return max + XMath.Log(sum);
    }

    public static void Sgd(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> v, SgdArgs s)
    {
        float step = g[i] + s.WeightDecay * p[i];
        if (s.HasVelocity != 0) { step = s.Momentum * v[i] + step; v[i] = step; }
        p[i] -= s.LearningRate * step;
    }

    public static void AdamW(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, AdamArgs s)
    {
        float mi = s.Beta1 * m[i] + (1f - s.Beta1) * g[i];
        float vi = s.Beta2 * v[i] + (1f - s.Beta2) * g[i] * g[i];
        m[i] = mi;
        v[i] = vi;
        float denominator = XMath.Sqrt(vi / s.Correction2) + s.Epsilon;
        p[i] = p[i] * s.Decay - s.LearningRate * (mi / s.Correction1) / denominator;
    }

    public static void FillUniform(Index1D i, ArrayView<float> y, ulong seed, ulong stream, float low, float width) =>
        y[i] = low + width * RandomStream.UniformFromBits(RandomStream.Hash(seed, stream, (ulong)i.X));

    public static void FillNormal(Index1D i, ArrayView<float> y, ulong seed, ulong stream, float mean, float sd)
    {
        ulong bits = RandomStream.Hash(seed, stream, (ulong)i.X);
        // Box-Muller exactly as RandomStream.NormalFromBits, with device math.
        float u1 = 1f - (bits >> 40) * (1f / 16777216f);
        float u2 = ((bits >> 8) & 0xFFFFFFUL) * (1f / 16777216f);
        y[i] = mean + sd * XMath.Sqrt(-2f * XMath.Log(u1)) * XMath.Cos(2f * XMath.PI * u2);
    }
}
