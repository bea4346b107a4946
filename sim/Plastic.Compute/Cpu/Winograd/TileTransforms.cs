using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Plastic.Compute.Cpu.Winograd;

/// <summary>
/// The per-tile transforms of <see cref="WinogradF2x3"/> over a block of tile rows, 16 tiles at a time
/// on AVX-512 and one at a time otherwise. Tiles overlap by two columns, so an image row is first split
/// into its even and odd columns; tile tw then reads columns tw and tw + 1 of both halves, and the
/// tiles of a row become contiguous vectors. Transformed values are stored position-major:
/// buffer[(xi * channels + c) * ld + tile], the layout the 16 GEMMs read.
/// </summary>
internal static unsafe class TileTransforms
{
    /// <summary>
    /// Per input channel, the even (E) and odd (O) columns of the four image rows of the current tile row
    /// (8p), kept from one tile row to the next: p = tiles + 1 padded for whole vectors.
    /// </summary>
    public static int ScratchFloats(TileRows t) => 8 * Math.Max(t.Dims.Cin, 1) * Padded(t.TilesW);

    private static int Padded(int tilesW) => (tilesW + 1 + 15) / 16 * 16;

    /// <summary>V[xi][ci][tile] = (B^T d B)[xi] for the input tiles d of tile rows g0 .. g1 - 1.</summary>
    public static void Input(float* x, TileRows t, int g0, int g1, float* v, int ld, bool wide, float* scratch)
    {
        var d = t.Dims;
        int tw = t.TilesW, p = Padded(tw);
        long positionStride = (long)d.Cin * ld;
        for (int g = g0; g < g1; g++)
        {
            int n = g / t.TilesH, th = g - n * t.TilesH;
            // Tile rows overlap by two image rows: below the first tile row of an image (and of this call),
            // rows 0 and 1 are the previous tile row's rows 2 and 3, moved down instead of split again.
            bool reuse = g > g0 && th > 0;
            for (int ci = 0; ci < d.Cin; ci++)
            {
                float* plane = x + ((long)n * d.Cin + ci) * d.H * d.W;
                float* even = scratch + 8L * ci * p;   // 4 rows x p
                float* odd = even + 4 * p;                    // 4 rows x p
                if (reuse)
                {
                    new ReadOnlySpan<float>(even + 2 * p, 2 * p).CopyTo(new Span<float>(even, 2 * p));
                    new ReadOnlySpan<float>(odd + 2 * p, 2 * p).CopyTo(new Span<float>(odd, 2 * p));
                }
                for (int r = reuse ? 2 : 0; r < 4; r++)
                {
                    int ih = 2 * th - d.Pad + r;
                    float* row = (uint)ih < (uint)d.H ? plane + (long)ih * d.W : null;
                    // Tile tw reads columns tw and tw + 1 of each half.
                    SplitColumns(row, d.W, d.Pad, even + r * p, odd + r * p, tw + 1, wide);
                }
                float* dst = v + (long)ci * ld + (long)(g - g0) * tw;
                int i = 0;
                if (wide)
                    for (; i + 16 <= tw; i += 16) InputVector(even + i, odd + i, p, dst + i, positionStride);
                for (; i < tw; i++) InputScalar(even + i, odd + i, p, dst + i, positionStride);
            }
        }
    }

    /// <summary>
    /// y = A^T M A (+ bias) for tile rows g0 .. g1 - 1, from M[xi][co][tile]; output pixels past the
    /// image edge (odd Ho or Wo) are dropped.
    /// </summary>
    public static void Output(float* m, int ld, TileRows t, int g0, int g1, float* bias, float* y, bool wide)
    {
        var d = t.Dims;
        int tw = t.TilesW;
        long positionStride = (long)d.Cout * ld;
        for (int g = g0; g < g1; g++)
        {
            int n = g / t.TilesH, th = g - n * t.TilesH;
            int oh = 2 * th;
            bool secondRow = oh + 1 < d.Ho;
            for (int co = 0; co < d.Cout; co++)
            {
                float b = bias == null ? 0f : bias[co];
                float* src = m + (long)co * ld + (long)(g - g0) * tw;
                float* top = y + (((long)n * d.Cout + co) * d.Ho + oh) * d.Wo;
                float* bottom = top + d.Wo;
                int i = 0;
                if (wide)
                {
                    for (; i + 16 <= tw && 2 * (i + 16) <= d.Wo; i += 16)
                    {
                        OutputVector(src + i, positionStride, b, out var v00, out var v01, out var v10, out var v11);
                        StoreInterleaved(v00, v01, top + 2 * i);
                        if (secondRow) StoreInterleaved(v10, v11, bottom + 2 * i);
                    }
                }
                for (; i < tw; i++)
                {
                    OutputScalar(src + i, positionStride, b, out float y00, out float y01, out float y10, out float y11);
                    int ow = 2 * i;
                    top[ow] = y00;
                    if (ow + 1 < d.Wo) top[ow + 1] = y01;
                    if (!secondRow) continue;
                    bottom[ow] = y10;
                    if (ow + 1 < d.Wo) bottom[ow + 1] = y11;
                }
            }
        }
    }

    /// <summary>
    /// Mg[xi][co][tile] = (A dY A^T)[xi] for the 2x2 output-gradient tiles of tile rows g0 .. g1 - 1
    /// (pixels past the image edge count as zero): the adjoint of <see cref="Output"/>.
    /// </summary>
    public static void Gradient(float* dy, TileRows t, int g0, int g1, float* mg, int ld, bool wide, float* scratch)
    {
        var d = t.Dims;
        int tw = t.TilesW, p = Padded(tw);
        float* even = scratch;           // 2 rows x p
        float* odd = even + 2 * p;       // 2 rows x p
        long positionStride = (long)d.Cout * ld;
        for (int g = g0; g < g1; g++)
        {
            int n = g / t.TilesH, th = g - n * t.TilesH;
            for (int co = 0; co < d.Cout; co++)
            {
                float* plane = dy + ((long)n * d.Cout + co) * d.Ho * d.Wo;
                for (int r = 0; r < 2; r++)
                {
                    int oh = 2 * th + r;
                    // Output tiles do not overlap: tile tw reads column tw of each half.
                    SplitColumns(oh < d.Ho ? plane + (long)oh * d.Wo : null, d.Wo, 0, even + r * p, odd + r * p, tw, wide);
                }
                float* dst = mg + (long)co * ld + (long)(g - g0) * tw;
                int i = 0;
                if (wide)
                    for (; i + 16 <= tw; i += 16) GradientVector(even + i, odd + i, p, dst + i, positionStride);
                for (; i < tw; i++) GradientScalar(even + i, odd + i, p, dst + i, positionStride);
            }
        }
    }

    /// <summary>
    /// Splits an image row (null: a padding row) as if placed at offset <paramref name="pad"/> of a row of
    /// zeros: even[k] = padded[2k] = row[2k - pad], odd[k] = row[2k + 1 - pad], for the <paramref name="needed"/>
    /// values of k the tiles read. Vectors of 16 are permuted straight from the row in registers: copying the
    /// row into a padded buffer first and loading it back one float off its stores cost a failed store-to-load
    /// forward per load (this split was 7-10 % of a 1/8-width training step's samples, 2026-12-04).
    /// </summary>
    private static void SplitColumns(float* row, int width, int pad, float* even, float* odd, int needed, bool wide)
    {
        if (row == null)
        {
            new Span<float>(even, needed).Clear();
            new Span<float>(odd, needed).Clear();
            return;
        }
        int k = 0;
        if (wide && needed >= 16 && width >= 32)
        {
            var evenIndex = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var oddIndex = evenIndex + Vector512<int>.One;
            if (pad == 1)
            {
                // The first 16 pairs start one before the row: padded[2k] = row[2k - 1], with padded[0] = 0.
                var lo = Vector512.Load(row);
                var hi = Vector512.Load(row + 16);
                var shifted = Avx512F.PermuteVar16x32x2(lo, oddIndex - Vector512.Create(2), hi); // row[2k - 1]; lane 0 reads row[31]
                (shifted.AsInt32() & FirstLaneCleared).AsSingle().Store(even);
                Avx512F.PermuteVar16x32x2(lo, evenIndex, hi).Store(odd);
                k = 16;
            }
            if (pad is 0 or 1)
            {
                for (; k + 16 <= needed && 2 * k - pad + 32 <= width; k += 16)
                {
                    float* window = row + 2 * k - pad;
                    var lo = Vector512.Load(window);
                    var hi = Vector512.Load(window + 16);
                    Avx512F.PermuteVar16x32x2(lo, evenIndex, hi).Store(even + k);
                    Avx512F.PermuteVar16x32x2(lo, oddIndex, hi).Store(odd + k);
                }
            }
        }
        for (; k < needed; k++)
        {
            int e = 2 * k - pad, o = e + 1;
            even[k] = (uint)e < (uint)width ? row[e] : 0f;
            odd[k] = (uint)o < (uint)width ? row[o] : 0f;
        }
    }

    private static readonly Vector512<int> FirstLaneCleared = Vector512.Create(0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputScalar(float* e, float* o, int p, float* dst, long stride)
    {
        // Row combinations of B^T over the four image rows, at tile columns tw (E0, O0) and tw + 1 (E1, O1).
        for (int i = 0; i < 4; i++)
        {
            int a = i switch { 0 => 0, 1 => 1, 2 => 2, _ => 1 };
            int b = i switch { 0 => 2, 1 => 2, 2 => 1, _ => 3 };
            float sign = i == 1 ? 1f : -1f;
            float e0 = e[a * p] + sign * e[b * p], o0 = o[a * p] + sign * o[b * p];
            float e1 = e[a * p + 1] + sign * e[b * p + 1], o1 = o[a * p + 1] + sign * o[b * p + 1];
            dst[(4 * i) * stride] = e0 - e1;
            dst[(4 * i + 1) * stride] = o0 + e1;
            dst[(4 * i + 2) * stride] = e1 - o0;
            dst[(4 * i + 3) * stride] = o0 - o1;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputVector(float* e, float* o, int p, float* dst, long stride) =>
        InputFromRows(TileColumns.Load(e, o), TileColumns.Load(e + p, o + p), TileColumns.Load(e + 2 * p, o + 2 * p),
            TileColumns.Load(e + 3 * p, o + 3 * p), dst, stride);

    /// <summary>
    /// V = B^T d B for 16 tiles along the lanes, from the four image rows of their tile row: the rows of B^T
    /// combine image rows, then each combined row's columns make four positions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputFromRows(TileColumns r0, TileColumns r1, TileColumns r2, TileColumns r3, float* dst, long stride)
    {
        StoreInputRow(r0 - r2, dst, stride);
        StoreInputRow(r1 + r2, dst + 4 * stride, stride);
        StoreInputRow(r2 - r1, dst + 8 * stride, stride);
        StoreInputRow(r1 - r3, dst + 12 * stride, stride);
    }

    /// <summary>One row of B^T d times B: positions 4i .. 4i + 3 from the row's columns tw (E0, O0) and tw + 1 (E1, O1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInputRow(TileColumns c, float* dst, long stride)
    {
        (c.E0 - c.E1).Store(dst);
        (c.O0 + c.E1).Store(dst + stride);
        (c.E1 - c.O0).Store(dst + 2 * stride);
        (c.O0 - c.O1).Store(dst + 3 * stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputScalar(float* m, long stride, float bias, out float y00, out float y01, out float y10, out float y11)
    {
        Span<float> s0 = stackalloc float[4], s1 = stackalloc float[4];
        for (int j = 0; j < 4; j++)
        {
            float m0 = m[j * stride], m1 = m[(4 + j) * stride], m2 = m[(8 + j) * stride], m3 = m[(12 + j) * stride];
            s0[j] = m0 + m1 + m2;
            s1[j] = m1 - m2 - m3;
        }
        y00 = s0[0] + s0[1] + s0[2] + bias;
        y01 = s0[1] - s0[2] - s0[3] + bias;
        y10 = s1[0] + s1[1] + s1[2] + bias;
        y11 = s1[1] - s1[2] - s1[3] + bias;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputVector(float* m, long stride, float bias,
        out Vector512<float> y00, out Vector512<float> y01, out Vector512<float> y10, out Vector512<float> y11)
    {
        Vector512<float> Row0(int j) => Vector512.Load(m + j * stride) + Vector512.Load(m + (4 + j) * stride) + Vector512.Load(m + (8 + j) * stride);
        Vector512<float> Row1(int j) => Vector512.Load(m + (4 + j) * stride) - Vector512.Load(m + (8 + j) * stride) - Vector512.Load(m + (12 + j) * stride);
        var b = Vector512.Create(bias);
        Vector512<float> a0 = Row0(0), a1 = Row0(1), a2 = Row0(2), a3 = Row0(3);
        y00 = a0 + a1 + a2 + b;
        y01 = a1 - a2 - a3 + b;
        Vector512<float> c0 = Row1(0), c1 = Row1(1), c2 = Row1(2), c3 = Row1(3);
        y10 = c0 + c1 + c2 + b;
        y11 = c1 - c2 - c3 + b;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleaved(Vector512<float> even, Vector512<float> odd, float* dst)
    {
        Interleave(even, odd, out var low, out var high);
        low.Store(dst);
        high.Store(dst + 16);
    }

    /// <summary>The pairs (even[k], odd[k]) in order: tiles 0-7 in <paramref name="low"/>, 8-15 in <paramref name="high"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector512<float> even, Vector512<float> odd, out Vector512<float> low, out Vector512<float> high)
    {
        var first = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        low = Avx512F.PermuteVar16x32x2(even, first, odd);
        high = Avx512F.PermuteVar16x32x2(even, first + Vector512.Create(8), odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientScalar(float* e, float* o, int p, float* dst, long stride)
    {
        // Tile tw of the two dY rows: (a0, b0) on the top row, (a1, b1) below; rows of A g, then columns.
        float a0 = e[0], b0 = o[0], a1 = e[p], b1 = o[p];
        Span<float> ra = [a0, a0 + a1, a0 - a1, -a1];
        Span<float> rb = [b0, b0 + b1, b0 - b1, -b1];
        for (int i = 0; i < 4; i++)
        {
            dst[(4 * i) * stride] = ra[i];
            dst[(4 * i + 1) * stride] = ra[i] + rb[i];
            dst[(4 * i + 2) * stride] = ra[i] - rb[i];
            dst[(4 * i + 3) * stride] = -rb[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientVector(float* e, float* o, int p, float* dst, long stride) =>
        GradientFromColumns(Vector512.Load(e), Vector512.Load(o), Vector512.Load(e + p), Vector512.Load(o + p), dst, stride);

    /// <summary>
    /// Mg = A dY A^T for 16 output-gradient tiles along the lanes: (a0, b0) the top row's two columns, (a1, b1) below.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientFromColumns(Vector512<float> a0, Vector512<float> b0, Vector512<float> a1, Vector512<float> b1, float* dst, long stride)
    {
        for (int i = 0; i < 4; i++)
        {
            var ra = i switch { 0 => a0, 1 => a0 + a1, 2 => a0 - a1, _ => -a1 };
            var rb = i switch { 0 => b0, 1 => b0 + b1, 2 => b0 - b1, _ => -b1 };
            ra.Store(dst + (4 * i) * stride);
            (ra + rb).Store(dst + (4 * i + 1) * stride);
            (ra - rb).Store(dst + (4 * i + 2) * stride);
            (-rb).Store(dst + (4 * i + 3) * stride);
        }
    }
}
