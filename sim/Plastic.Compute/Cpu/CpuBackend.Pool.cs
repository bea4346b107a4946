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
                if (SmallWindowsByVectors(d)) p0 = MaxPool2x2Small(xs, ys, ip, p0, p1, d);
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

    /// <summary>
    /// 2x2 windows tiling planes of 8x8 or 4x4 (outputs of 4 or 2 a row, too short for a vector): planes lie one after
    /// the other and their rows pair up within each plane, so a batch of such planes is one run of row pairs, and 32
    /// input floats (2, or 4, whole row pairs) hold 8 whole windows.
    /// </summary>
    private static bool SmallWindowsByVectors(PoolDims d) =>
        Avx512F.IsSupported && d.K == 2 && d.Stride == 2 && d.H == 2 * d.Ho && d.W == 2 * d.Wo && (d.W == 8 || d.W == 4);

    /// <summary>Lanes of 8 windows in 32 input floats of rows <paramref name="w"/> wide (4 or 8): each window's top-left float.</summary>
    private static Vector512<int> SmallWindowCorners(int w) => w == 4 ? CornersOf4 : CornersOf8;

    private static readonly Vector512<int> CornersOf4 = MakeSmallWindowCorners(4), CornersOf8 = MakeSmallWindowCorners(8);

    private static Vector512<int> MakeSmallWindowCorners(int w)
    {
        int wo = w / 2;
        Span<int> corners = stackalloc int[16];
        for (int l = 0; l < 16; l++) corners[l] = l < 8 ? l / wo * 2 * w + 2 * (l % wo) : 0;
        return Vector512.Create<int>(corners);
    }

    /// <summary>
    /// <see cref="MaxPool2x2"/> on 8x8 or 4x4 planes (<see cref="SmallWindowsByVectors"/>) eight windows at a time, in the scalar
    /// loop's order of comparisons (the same values and indices). Returns the first plane left to the scalar loop (the last
    /// one of an odd count of 4x4 planes).
    /// </summary>
    private static unsafe int MaxPool2x2Small(float* x, float* y, int* argmax, int p0, int p1, PoolDims d)
    {
        int w = d.W, planeIn = d.H * w, planeOut = d.Ho * d.Wo, planesPerStep = SmallPlanesPerStep(d);
        var corner = SmallWindowCorners(w);
        var right = corner + Vector512<int>.One; var below = corner + Vector512.Create(w); var diagonal = below + Vector512<int>.One;
        int p = p0;
        for (; p + planesPerStep <= p1; p += planesPerStep)
        {
            for (int o = 0; o < planeOut * planesPerStep; o += 8)
            {
                // Output o of plane p is window o: its row pair starts at input (o / Wo) * 2W of the plane.
                int start = p * planeIn + o / d.Wo * 2 * w;
                var a = Vector512.Load(x + start); var b = Vector512.Load(x + start + 16);
                var at = Vector512.Create(start);
                var best = Avx512F.PermuteVar16x32x2(a, corner, b).GetLower();
                var bestAt = (at + corner).GetLower();
                TakeVector(Avx512F.PermuteVar16x32x2(a, right, b).GetLower(), (at + right).GetLower(), ref best, ref bestAt);
                TakeVector(Avx512F.PermuteVar16x32x2(a, below, b).GetLower(), (at + below).GetLower(), ref best, ref bestAt);
                TakeVector(Avx512F.PermuteVar16x32x2(a, diagonal, b).GetLower(), (at + diagonal).GetLower(), ref best, ref bestAt);
                Vector256.Store(best, y + p * planeOut + o);
                Vector256.Store(bestAt, argmax + p * planeOut + o);
            }
        }
        return p;
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
    private unsafe void ScatterToArgmax(string op, Tensor gradOutput, IndexTensor argmax, Tensor? post, Tensor gradInput, PoolDims d)
    {
        var dyT = T(gradOutput); var idT = I(argmax); var postT = post is null ? null : T(post); var dxT = T(gradInput);
        bool tiled = TilesByVectors(d), small = SmallWindowsByVectors(d);
        int smallStep = small ? SmallPlanesPerStep(d) : 0;
        _parallel.ForRanges(d.Planes, 1, (p0, p1) =>
        {
            var dy = dyT.Span; var ids = idT.Span; var dx = dxT.Span;
            var y = postT is null ? default : postT.Span;
            bool masked = postT is not null;
            int planeIn = d.H * d.W, planeOut = d.Ho * d.Wo;
            fixed (float* dyp = dy, dxp = dx, yp = y) // yp is null without a mask
            fixed (int* ip = ids)
            for (int plane = p0; plane < p1; plane++)
            {
                if (tiled && Scatter2x2Plane(dyp, ip, yp, dxp, plane, d)) continue;
                if (small && plane + smallStep <= p1 && ScatterSmallPlanes(dyp, ip, yp, dxp, plane, d))
                {
                    plane += smallStep - 1;
                    continue;
                }
                int first = plane * planeIn;
                dx.Slice(first, planeIn).Clear();
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

    /// <summary>
    /// 2x2 windows with stride 2 that tile the plane exactly, rows of 8 or 16n windows, on AVX-512: the
    /// VGG case, where the scalar scatter (a dependent read-modify-write per output) cost 1.1 ms a step for
    /// vgg6-cifar-small's block2.
    /// </summary>
    private static bool TilesByVectors(PoolDims d) =>
        Avx512F.IsSupported && d.K == 2 && d.Stride == 2 && d.H == 2 * d.Ho && d.W == 2 * d.Wo && (d.Wo == 8 || d.Wo % 16 == 0);

    /// <summary>
    /// One plane of <see cref="ScatterToArgmax"/> written whole, two input rows per output row: each output
    /// gradient goes to the window position its argmax names (0, 1, W or W + 1 from the window's corner), the
    /// others get zero, where post (when given) is positive. The same values as the scalar scatter onto a
    /// cleared plane, bit for bit (adding +0 turns a -0 into +0 as the scalar sum does). Returns false, having
    /// written nothing the scalar pass will not overwrite, when an argmax lies outside its window.
    /// </summary>
    private static unsafe bool Scatter2x2Plane(float* dy, int* argmax, float* post, float* dx, int plane, PoolDims d)
    {
        int w = d.W, planeIn = d.H * w, planeOut = d.Ho * d.Wo;
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var high = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        var right = Vector512<int>.One; var below = Vector512.Create(w); var diagonal = Vector512.Create(w + 1);
        for (int oh = 0; oh < d.Ho; oh++)
        {
            long top = (long)plane * planeIn + 2L * oh * w;
            for (int ow = 0; ow < d.Wo; ow += 16)
            {
                int lanes = Math.Min(16, d.Wo - ow); // 8 on an 8-wide row: the upper lanes are left out below
                long i = (long)plane * planeOut + (long)oh * d.Wo + ow;
                Vector512<float> g; Vector512<int> at;
                if (lanes == 16) { g = Vector512.Load(dy + i); at = Vector512.Load(argmax + i); }
                else { g = Vector256.Load(dy + i).ToVector512(); at = Vector256.Load(argmax + i).ToVector512(); }
                var offset = at - (Vector512.Create((int)(top + 2 * ow)) + evens);
                var isCorner = Vector512.Equals(offset, Vector512<int>.Zero);
                var isRight = Vector512.Equals(offset, right);
                var isBelow = Vector512.Equals(offset, below);
                var isDiagonal = Vector512.Equals(offset, diagonal);
                var inside = (isCorner | isRight | isBelow | isDiagonal).ExtractMostSignificantBits();
                if ((inside & ((1u << lanes) - 1)) != (1u << lanes) - 1) return false;
                var zero = Vector512<float>.Zero;
                var v00 = Vector512.ConditionalSelect(isCorner.AsSingle(), g, zero);
                var v01 = Vector512.ConditionalSelect(isRight.AsSingle(), g, zero);
                var v10 = Vector512.ConditionalSelect(isBelow.AsSingle(), g, zero);
                var v11 = Vector512.ConditionalSelect(isDiagonal.AsSingle(), g, zero);
                float* row0 = dx + top + 2 * ow, row1 = row0 + w;
                StoreInterleaved(v00, v01, low, high, post is null ? null : post + top + 2 * ow, row0, lanes);
                StoreInterleaved(v10, v11, low, high, post is null ? null : post + top + w + 2 * ow, row1, lanes);
            }
        }
        return true;
    }

    /// <summary>Planes of <see cref="SmallWindowsByVectors"/> that one step of 8 windows covers whole: two of 4x4, one of 8x8.</summary>
    private static int SmallPlanesPerStep(PoolDims d) => Math.Max(1, 8 / (d.Ho * d.Wo));

    /// <summary>
    /// <see cref="Scatter2x2Plane"/> for planes of 8x8 or 4x4 (<see cref="SmallPlanesPerStep"/> of them from
    /// <paramref name="plane"/>), 8 windows, 32 input floats, at a time: the same values bit for bit. Returns false when
    /// an argmax lies outside its window (the scalar pass then clears and writes these planes again).
    /// </summary>
    private static unsafe bool ScatterSmallPlanes(float* dy, int* argmax, float* post, float* dx, int plane, PoolDims d)
    {
        int w = d.W, planeIn = d.H * w, planeOut = d.Ho * d.Wo, outputs = planeOut * SmallPlanesPerStep(d);
        var corner = SmallWindowCorners(w).GetLower();
        var right = Vector256<int>.One; var below = Vector256.Create(w); var diagonal = Vector256.Create(w + 1);
        var (first, second) = SmallWindowSpread(w);
        var zero = Vector256<float>.Zero;
        for (int o = 0; o < outputs; o += 8)
        {
            long i = (long)plane * planeOut + o, start = (long)plane * planeIn + o / d.Wo * 2 * w;
            var g = Vector256.Load(dy + i);
            var offset = Vector256.Load(argmax + i) - (Vector256.Create((int)start) + corner);
            var isCorner = Vector256.Equals(offset, Vector256<int>.Zero);
            var isRight = Vector256.Equals(offset, right);
            var isBelow = Vector256.Equals(offset, below);
            var isDiagonal = Vector256.Equals(offset, diagonal);
            if ((isCorner | isRight | isBelow | isDiagonal).ExtractMostSignificantBits() != 0xFF) return false;
            var top = Vector512.Create(Vector256.ConditionalSelect(isCorner.AsSingle(), g, zero), Vector256.ConditionalSelect(isRight.AsSingle(), g, zero));
            var bottom = Vector512.Create(Vector256.ConditionalSelect(isBelow.AsSingle(), g, zero), Vector256.ConditionalSelect(isDiagonal.AsSingle(), g, zero));
            StoreSpread(Avx512F.PermuteVar16x32x2(top, first, bottom), post is null ? null : post + start, dx + start);
            StoreSpread(Avx512F.PermuteVar16x32x2(top, second, bottom), post is null ? null : post + start + 16, dx + start + 16);
        }
        return true;
    }

    /// <summary>
    /// Where each of 32 input floats (rows <paramref name="w"/> wide, in pairs) takes its value from [top-left | top-right]
    /// (0-15) and [bottom-left | bottom-right] (16-31) of 8 windows: the first 16 floats, then the next 16.
    /// </summary>
    private static (Vector512<int> First, Vector512<int> Second) SmallWindowSpread(int w) => w == 4 ? SpreadOf4 : SpreadOf8;

    private static readonly (Vector512<int> First, Vector512<int> Second) SpreadOf4 = MakeSmallWindowSpread(4), SpreadOf8 = MakeSmallWindowSpread(8);

    private static (Vector512<int> First, Vector512<int> Second) MakeSmallWindowSpread(int w)
    {
        int wo = w / 2;
        Span<int> from = stackalloc int[32];
        for (int q = 0; q < 32; q++)
        {
            int pair = q / (2 * w), inPair = q % (2 * w), column = inPair % w;
            from[q] = (inPair < w ? 0 : 16) + pair * wo + column / 2 + 8 * (column % 2);
        }
        return (Vector512.Create<int>(from[..16]), Vector512.Create<int>(from[16..]));
    }

    /// <summary>Stores 16 floats, zero where post (when given) is not positive; + 0 turns a -0 into +0, as the scalar sum onto a cleared plane does.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreSpread(Vector512<float> values, float* post, float* row)
    {
        var zero = Vector512<float>.Zero;
        if (post is not null) values = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(post), zero), values, zero);
        Vector512.Store(zero + values, row);
    }

    /// <summary>Writes even[0], odd[0], even[1], odd[1], ... (2 x lanes floats), masked where post is not positive.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreInterleaved(Vector512<float> even, Vector512<float> odd, Vector512<int> low, Vector512<int> high, float* post, float* row, int lanes)
    {
        var zero = Vector512<float>.Zero;
        var first = Avx512F.PermuteVar16x32x2(even, low, odd);
        if (post is not null) first = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(post), zero), first, zero);
        Vector512.Store(zero + first, row);
        if (lanes < 16) return;
        var second = Avx512F.PermuteVar16x32x2(even, high, odd);
        if (post is not null) second = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Load(post + 16), zero), second, zero);
        Vector512.Store(zero + second, row + 16);
    }

    /// <summary>
    /// Windows that tile the plane exactly (stride = K, H = Ho K, W = Wo K), as the CLAPP loss pools: the
    /// general loops below read and write one bounds-checked value at a time, and the forward sum of a
    /// window was one chain of dependent adds (4 % of a 1/8-width CLAPP++ step's samples, 2026-12-04).
    /// </summary>
    private static bool TilesExactly(PoolDims d) => d.Stride == d.K && d.H == d.Ho * d.K && d.W == d.Wo * d.K && d.Wo <= MaxTiledOutputRow;

    private const int MaxTiledOutputRow = 256;

    protected override unsafe void AvgPool2dForwardCore(Tensor input, Tensor output, PoolDims d)
    {
        var x = T(input); var y = T(output);
        float inv = 1f / (d.K * d.K);
        if (TilesExactly(d))
        {
            nint xp = (nint)x.Pointer, yp = (nint)y.Pointer;
            _parallel.ForRanges(d.Planes, 1, (p0, p1) => AvgPoolTiledForward((float*)xp, (float*)yp, p0, p1, d, inv));
            return;
        }
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

    protected override unsafe void AvgPool2dBackwardCore(Tensor gradOutput, Tensor gradInput, PoolDims d)
    {
        var dy = T(gradOutput); var dx = T(gradInput);
        float inv = 1f / (d.K * d.K);
        if (TilesExactly(d))
        {
            nint dyp = (nint)dy.Pointer, dxp = (nint)dx.Pointer;
            _parallel.ForRanges(d.Planes, 1, (p0, p1) => AvgPoolTiledBackward((float*)dyp, (float*)dxp, p0, p1, d, inv));
            return;
        }
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

    /// <summary>
    /// One output row at a time, all its windows summed side by side (independent adds), each window in the
    /// general loop's order (row by row, left to right, from 0): the same sums, bit for bit.
    /// </summary>
    private static unsafe void AvgPoolTiledForward(float* x, float* y, int p0, int p1, PoolDims d, float inv)
    {
        float* sums = stackalloc float[d.Wo];
        for (int p = p0; p < p1; p++)
        {
            float* plane = x + (long)p * d.H * d.W;
            float* outPlane = y + (long)p * d.Ho * d.Wo;
            for (int oh = 0; oh < d.Ho; oh++)
            {
                if (AvgPoolRowVector(plane, outPlane + (long)oh * d.Wo, oh, d, inv)) continue;
                for (int ow = 0; ow < d.Wo; ow++) sums[ow] = 0f;
                for (int kh = 0; kh < d.K; kh++)
                {
                    float* row = plane + (long)(oh * d.K + kh) * d.W;
                    for (int kw = 0; kw < d.K; kw++)
                        for (int ow = 0; ow < d.Wo; ow++) sums[ow] += row[ow * d.K + kw];
                }
                float* outRow = outPlane + (long)oh * d.Wo;
                for (int ow = 0; ow < d.Wo; ow++) outRow[ow] = sums[ow] * inv;
            }
        }
    }

    /// <summary>
    /// One output row of 16- or 32-pixel input rows (the 1/8-width VGG's loss pooling: K 4 or 2) with AVX-512:
    /// each (kh, kw) adds, to every window's lane, the value at that place, gathered from the row's vectors
    /// by a permute: the scalar loop's order per window, so the same sums bit for bit. False: not this case.
    /// </summary>
    private static unsafe bool AvgPoolRowVector(float* plane, float* outRow, int oh, PoolDims d, float inv)
    {
        if (!Avx512F.IsSupported || (d.W != 16 && d.W != 32) || d.Wo is not (4 or 8 or 16)) return false;
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var windowStart = lane * Vector512.Create(d.K);   // lanes past Wo read some place; they are not stored
        var sums = Vector512<float>.Zero;
        for (int kh = 0; kh < d.K; kh++)
        {
            float* row = plane + (long)(oh * d.K + kh) * d.W;
            var lo = Vector512.Load(row);
            var hi = d.W == 32 ? Vector512.Load(row + 16) : lo;
            for (int kw = 0; kw < d.K; kw++)
                sums += Avx512F.PermuteVar16x32x2(lo, windowStart + Vector512.Create(kw), hi);
        }
        sums *= Vector512.Create(inv);
        if (d.Wo == 16) sums.Store(outRow);
        else if (d.Wo == 8) sums.GetLower().Store(outRow);
        else sums.GetLower().GetLower().Store(outRow);
        return true;
    }

    /// <summary>Each window's K x K inputs get its gradient / K^2: the first row of a window row is written, then copied to the other K - 1.</summary>
    private static unsafe void AvgPoolTiledBackward(float* dy, float* dx, int p0, int p1, PoolDims d, float inv)
    {
        for (int p = p0; p < p1; p++)
        {
            float* gradPlane = dy + (long)p * d.Ho * d.Wo;
            float* plane = dx + (long)p * d.H * d.W;
            for (int oh = 0; oh < d.Ho; oh++)
            {
                float* first = plane + (long)oh * d.K * d.W;
                float* g = gradPlane + (long)oh * d.Wo;
                for (int ow = 0; ow < d.Wo; ow++)
                {
                    float v = 0f + g[ow] * inv;   // + 0: a -0 becomes +0, as adding onto a cleared plane gives
                    for (int kw = 0; kw < d.K; kw++) first[ow * d.K + kw] = v;
                }
                for (int kh = 1; kh < d.K; kh++) Plastic.Compute.Cpu.Gemm.ShortCopy.Floats(first, first + (long)kh * d.W, d.W);
            }
        }
    }
}
