using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
namespace Plastic.Compute.Cpu;

public sealed partial class CpuBackend
{
    protected override unsafe void MaxPool2dForwardCore(Tensor input, Tensor output, IndexTensor argmax, PoolDims d)
    {
        var x = T(input); var y = T(output); var idx = I(argmax);
        if (d.K == 2 && d.Stride == 2 && d.H >= 2 * d.Ho && d.W >= 2 * d.Wo)
        {
            MaxPool2x2(x, y, idx, d);
            return;
        }
        _parallel.ForRanges(d.Planes, 1, (p0, p1) =>
        {
            var xs = x.Span; var ys = y.Span; var ids = idx.Span;
            for (int p = p0; p < p1; p++)
            {
                int planeIn = p * d.H * d.W, planeOut = p * d.Ho * d.Wo;
                for (int oh = 0; oh < d.Ho; oh++)
                    for (int ow = 0; ow < d.Wo; ow++)
                    {
                        // Ties go to the first maximum in row-major order, as in PyTorch. Selects, not
                        // branches: which element wins is random, and a branch would mispredict.
                        int best = planeIn + oh * d.Stride * d.W + ow * d.Stride;
                        float bestValue = xs[best];
                        for (int kh = 0; kh < d.K; kh++)
                        {
                            int row = planeIn + (oh * d.Stride + kh) * d.W + ow * d.Stride;
                            for (int kw = 0; kw < d.K; kw++)
                            {
                                float v = xs[row + kw];
                                bool wins = (v > bestValue) | float.IsNaN(v);
                                bestValue = wins ? v : bestValue;
                                best = wins ? row + kw : best;
                            }
                        }
                        ys[planeOut + oh * d.Wo + ow] = bestValue;
                        ids[planeOut + oh * d.Wo + ow] = best;
                    }
            }
        });
    }

    /// <summary>
    /// The VGG case, 2x2 windows with stride 2, unrolled over raw pointers: the same four comparisons in
    /// the same order as the general loop (first maximum in row-major order wins, a NaN wins), without
    /// its bounds checks, inner loops and branches (4.2 -> 2.1 ms a step for vgg6-cifar-small's block2).
    /// </summary>
    private unsafe void MaxPool2x2(CpuTensor x, CpuTensor y, CpuIndexTensor idx, PoolDims d)
    {
        nint xp = (nint)x.Pointer, yp = (nint)y.Pointer;
        var ids = idx;
        _parallel.ForRanges(d.Planes, 1, (p0, p1) =>
        {
            fixed (int* ip0 = ids.Span)
            {
                float* xs = (float*)xp; float* ys = (float*)yp; int* ip = ip0;
                for (int p = p0; p < p1; p++)
                {
                    int planeIn = p * d.H * d.W, planeOut = p * d.Ho * d.Wo;
                    for (int oh = 0; oh < d.Ho; oh++)
                    {
                        int top = planeIn + 2 * oh * d.W;
                        float* r0 = xs + top;
                        float* r1 = r0 + d.W;
                        float* yrow = ys + planeOut + oh * d.Wo;
                        int* irow = ip + planeOut + oh * d.Wo;
                        int ow = MaxPool2x2Vector(r0, r1, yrow, irow, top, d.W, d.Wo);
                        for (; ow < d.Wo; ow++)
                        {
                            int c = 2 * ow;
                            int best = BitConverter.SingleToInt32Bits(r0[c]), at = top + c;
                            Take(BitConverter.SingleToInt32Bits(r0[c + 1]), top + c + 1, ref best, ref at);
                            Take(BitConverter.SingleToInt32Bits(r1[c]), top + d.W + c, ref best, ref at);
                            Take(BitConverter.SingleToInt32Bits(r1[c + 1]), top + d.W + c + 1, ref best, ref at);
                            yrow[ow] = BitConverter.Int32BitsToSingle(best);
                            irow[ow] = at;
                        }
                    }
                }
            }
        });
    }

    /// <summary>
    /// Sixteen (then eight) windows at a time with AVX-512: the two input rows deinterleaved into even and
    /// odd columns, then the scalar loop's four steps in its order, as selects on whole vectors (the same
    /// values and indices). Returns how many outputs of the row it wrote; the caller does the rest.
    /// </summary>
    private static unsafe int MaxPool2x2Vector(float* r0, float* r1, float* yrow, int* irow, int top, int w, int wo)
    {
        if (!Avx512F.IsSupported) return 0;
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odds = evens + Vector512<int>.One;
        int ow = 0;
        for (; ow + 16 <= wo; ow += 16)
        {
            int c = 2 * ow;
            var a0 = Vector512.Load(r0 + c); var a1 = Vector512.Load(r0 + c + 16);
            var b0 = Vector512.Load(r1 + c); var b1 = Vector512.Load(r1 + c + 16);
            var at = Vector512.Create(top + c) + evens;
            var best = Avx512F.PermuteVar16x32x2(a0, evens, a1);
            var bestAt = at;
            TakeVector(Avx512F.PermuteVar16x32x2(a0, odds, a1), at + Vector512<int>.One, ref best, ref bestAt);
            TakeVector(Avx512F.PermuteVar16x32x2(b0, evens, b1), at + Vector512.Create(w), ref best, ref bestAt);
            TakeVector(Avx512F.PermuteVar16x32x2(b0, odds, b1), at + Vector512.Create(w + 1), ref best, ref bestAt);
            Vector512.Store(best, yrow + ow);
            Vector512.Store(bestAt, irow + ow);
        }
        // Eight windows from one vector of each input row (the 16x16 maps of a VGG): both rows' even
        // columns in one permute, both rows' odd columns in another, then the same four steps on halves.
        var lanes = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        for (; ow + 8 <= wo; ow += 8)
        {
            int c = 2 * ow;
            var a = Vector512.Load(r0 + c); var b = Vector512.Load(r1 + c);
            var bothEvens = Avx512F.PermuteVar16x32x2(a, evens, b);   // r0 evens | r1 evens
            var bothOdds = Avx512F.PermuteVar16x32x2(a, odds, b);     // r0 odds  | r1 odds
            var at = Vector256.Create(top + c) + lanes;
            var best = bothEvens.GetLower();
            var bestAt = at;
            TakeVector(bothOdds.GetLower(), at + Vector256<int>.One, ref best, ref bestAt);
            TakeVector(bothEvens.GetUpper(), at + Vector256.Create(w), ref best, ref bestAt);
            TakeVector(bothOdds.GetUpper(), at + Vector256.Create(w + 1), ref best, ref bestAt);
            Vector256.Store(best, yrow + ow);
            Vector256.Store(bestAt, irow + ow);
        }
        return ow;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void TakeVector(Vector256<float> candidate, Vector256<int> candidateAt, ref Vector256<float> best, ref Vector256<int> bestAt)
    {
        var wins = Vector256.GreaterThan(candidate, best) | ~Vector256.Equals(candidate, candidate);
        best = Vector256.ConditionalSelect(wins, candidate, best);
        bestAt = Vector256.ConditionalSelect(wins.AsInt32(), candidateAt, bestAt);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void TakeVector(Vector512<float> candidate, Vector512<int> candidateAt, ref Vector512<float> best, ref Vector512<int> bestAt)
    {
        var wins = Vector512.GreaterThan(candidate, best) | ~Vector512.Equals(candidate, candidate);
        best = Vector512.ConditionalSelect(wins, candidate, best);
        bestAt = Vector512.ConditionalSelect(wins.AsInt32(), candidateAt, bestAt);
    }

    /// <summary>
    /// One step of the window's scan without a branch: the candidate wins if greater or NaN (PyTorch's
    /// rule), and value and index are blended through a 0/-1 mask, because with random activations a
    /// branch here mispredicts half the time (it cost 8 ns an output).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Take(int candidateBits, int candidateAt, ref int bestBits, ref int bestAt)
    {
        float v = BitConverter.Int32BitsToSingle(candidateBits), best = BitConverter.Int32BitsToSingle(bestBits);
        bool wins = (v > best) | float.IsNaN(v);
        int mask = -System.Runtime.CompilerServices.Unsafe.BitCast<bool, byte>(wins);
        bestBits = (candidateBits & mask) | (bestBits & ~mask);
        bestAt = (candidateAt & mask) | (bestAt & ~mask);
    }

    protected override void MaxPool2dBackwardCore(Tensor gradOutput, IndexTensor argmax, Tensor gradInput, PoolDims d) =>
        ScatterToArgmax("MaxPool2dBackward", gradOutput, argmax, null, gradInput, d);

    /// <summary>
    /// Route and mask in one pass: each output gradient goes to its argmax only where the ReLU's output is
    /// positive, so the routed gradient is never written out and read back (a full pass over the
    /// activation saved). Same sums in the same order as MaxPool2dBackward then ReluBackward.
    /// </summary>
    protected override void MaxPool2dReluBackwardCore(Tensor gradOutput, IndexTensor argmax, Tensor post, Tensor gradInput, PoolDims d) =>
        ScatterToArgmax("MaxPool2dReluBackward", gradOutput, argmax, post, gradInput, d);

    /// <summary>
    /// gradInput = each output gradient added at its argmax, where <paramref name="post"/> (when given) is
    /// positive. A plane's maxima lie in that plane, so planes scatter into disjoint ranges: in parallel,
    /// each plane in its own order (the sums do not depend on the thread count).
    /// </summary>
    private void ScatterToArgmax(string op, Tensor gradOutput, IndexTensor argmax, Tensor? post, Tensor gradInput, PoolDims d)
    {
        var dyT = T(gradOutput); var idT = I(argmax); var postT = post is null ? null : T(post); var dxT = T(gradInput);
        _parallel.ForRanges(d.Planes, 1, (p0, p1) =>
        {
            var dy = dyT.Span; var ids = idT.Span; var dx = dxT.Span;
            var y = postT is null ? default : postT.Span;
            bool masked = postT is not null;
            int planeIn = d.H * d.W, planeOut = d.Ho * d.Wo;
            dx.Slice(p0 * planeIn, (p1 - p0) * planeIn).Clear();
            for (int plane = p0; plane < p1; plane++)
            {
                int first = plane * planeIn;
                for (int i = plane * planeOut, end = i + planeOut; i < end; i++)
                {
                    int at = ids[i];
                    if ((uint)(at - first) >= (uint)planeIn)
                        throw new ArgumentException($"{op}: argmax[{i}] = {at} is outside its plane of gradInput {gradInput.Shape}; was it produced by MaxPool2dForward on this shape?");
                    dx[at] += !masked || y[at] > 0f ? dy[i] : 0f;
                }
            }
        });
    }

    protected override void AvgPool2dForwardCore(Tensor input, Tensor output, PoolDims d)
    {
        var x = T(input); var y = T(output);
        float inv = 1f / (d.K * d.K);
        _parallel.ForRanges(d.Planes, 1, (p0, p1) =>
        {
            var xs = x.Span; var ys = y.Span;
            for (int p = p0; p < p1; p++)
            {
                int planeIn = p * d.H * d.W, planeOut = p * d.Ho * d.Wo;
                for (int oh = 0; oh < d.Ho; oh++)
                    for (int ow = 0; ow < d.Wo; ow++)
                    {
                        float sum = 0f;
                        for (int kh = 0; kh < d.K; kh++)
                        {
                            int row = planeIn + (oh * d.Stride + kh) * d.W + ow * d.Stride;
                            for (int kw = 0; kw < d.K; kw++) sum += xs[row + kw];
                        }
                        ys[planeOut + oh * d.Wo + ow] = sum * inv;
                    }
            }
        });
    }

    protected override void AvgPool2dBackwardCore(Tensor gradOutput, Tensor gradInput, PoolDims d)
    {
        var dy = T(gradOutput); var dx = T(gradInput);
        float inv = 1f / (d.K * d.K);
        _parallel.ForRanges(d.Planes, 1, (p0, p1) =>
        {
            var dys = dy.Span; var dxs = dx.Span;
            for (int p = p0; p < p1; p++)
            {
                int planeIn = p * d.H * d.W, planeOut = p * d.Ho * d.Wo;
                dxs.Slice(planeIn, d.H * d.W).Clear();
                for (int oh = 0; oh < d.Ho; oh++)
                    for (int ow = 0; ow < d.Wo; ow++)
                    {
                        float g = dys[planeOut + oh * d.Wo + ow] * inv;
                        for (int kh = 0; kh < d.K; kh++)
                        {
                            int row = planeIn + (oh * d.Stride + kh) * d.W + ow * d.Stride;
                            for (int kw = 0; kw < d.K; kw++) dxs[row + kw] += g;
                        }
                    }
            }
        });
    }
}
