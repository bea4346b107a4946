using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Plastic.Compute.Cpu.Winograd;

/// <summary>
/// The tile transforms of <see cref="TileTransforms"/> for output rows of 4, 8 or 16 pixels (tile rows of 2, 4 or
/// 8 tiles, the 4x4 to 16x16 maps of a VGG on 32x32 images), 16 tiles per vector across several tile rows. Split
/// one tile row at a time, such rows fill no vector and their transforms ran one tile at a time: Winograd was 4-5
/// times slower than the direct convolution there (2026-12-04). Here a vector's 16 tiles are 16 / tw consecutive
/// tile rows of the block, and a row of each is a run of 2 tw pixels: the runs of the group's tile rows, loaded
/// side by side, are the 32 columns of one row of the 16 tiles, split into even and odd columns by two permutes.
/// The input is read with its zero border written out (<see cref="Gemm.PaddedImages"/>), so no run is clipped.
/// Tile rows past the last whole group go through <see cref="TileTransforms"/>; both compute the same numbers.
/// </summary>
internal static unsafe class NarrowTileTransforms
{
    private const int Lanes = 16;

    /// <summary>Whether these transforms apply: AVX-512, output rows of 4, 8 or 16 pixels and an even number of them.</summary>
    public static bool Applies(ConvDims d, bool wide) => wide && d.Wo is 4 or 8 or 16 && d.Ho % 2 == 0;

    /// <summary>Tile rows per vector of tiles.</summary>
    public static int GroupRows(TileRows t) => Lanes / t.TilesW;

    /// <summary>
    /// V[xi][ci][tile] = (B^T d B)[xi] for tile rows g0 .. g1 - 1, as <see cref="TileTransforms.Input"/>, with
    /// <paramref name="bordered"/> the batch with its border written out (<paramref name="input"/> as it is).
    /// </summary>
    public static void Input(float* bordered, float* input, TileRows t, int g0, int g1, float* v, int ld, float* scratch)
    {
        var d = t.Dims;
        int tw = t.TilesW, rows = GroupRows(t), wb = d.W + 2 * d.Pad;
        long plane = (long)(d.H + 2 * d.Pad) * wb, image = d.Cin * plane, positionStride = (long)d.Cin * ld;
        var corners = stackalloc long[rows];
        int g = g0;
        for (; g + rows <= g1; g += rows)
        {
            // Tile row th of image n starts at bordered row 2 th: its four rows are the tiles' rows.
            Corners(t, g, rows, image, wb, corners);
            float* dst = v + (long)(g - g0) * tw;
            for (int ci = 0; ci < d.Cin; ci++)
            {
                float* x = bordered + ci * plane;
                TileTransforms.InputFromRows(Columns(x, corners, tw), Columns(x + wb, corners, tw), Columns(x + 2 * wb, corners, tw),
                    Columns(x + 3 * wb, corners, tw), dst + (long)ci * ld, positionStride);
            }
        }
        if (g < g1) TileTransforms.Input(input, t, g, g1, v + (long)(g - g0) * tw, ld, wide: true, scratch);
    }

    /// <summary>y = A^T M A (+ bias) for tile rows g0 .. g1 - 1, as <see cref="TileTransforms.Output"/>.</summary>
    public static void Output(float* m, int ld, TileRows t, int g0, int g1, float* bias, float* y)
    {
        var d = t.Dims;
        int tw = t.TilesW, rows = GroupRows(t);
        long positionStride = (long)d.Cout * ld, plane = (long)d.Ho * d.Wo;
        var corners = stackalloc long[rows];
        int g = g0;
        for (; g + rows <= g1; g += rows)
        {
            Corners(t, g, rows, d.Cout * plane, d.Wo, corners);
            for (int co = 0; co < d.Cout; co++)
            {
                float b = bias == null ? 0f : bias[co];
                TileTransforms.OutputVector(m + (long)co * ld + (long)(g - g0) * tw, positionStride, b, out var y00, out var y01, out var y10, out var y11);
                float* top = y + co * plane;
                StoreRuns(y00, y01, top, corners, tw);
                StoreRuns(y10, y11, top + d.Wo, corners, tw);
            }
        }
        if (g < g1) TileTransforms.Output(m + (long)(g - g0) * tw, ld, t, g, g1, bias, y, wide: true);
    }

    /// <summary>Mg[xi][co][tile] = (A dY A^T)[xi] for tile rows g0 .. g1 - 1, as <see cref="TileTransforms.Gradient"/>.</summary>
    public static void Gradient(float* dy, TileRows t, int g0, int g1, float* mg, int ld, float* scratch)
    {
        var d = t.Dims;
        int tw = t.TilesW, rows = GroupRows(t);
        long positionStride = (long)d.Cout * ld, plane = (long)d.Ho * d.Wo;
        var corners = stackalloc long[rows];
        int g = g0;
        for (; g + rows <= g1; g += rows)
        {
            Corners(t, g, rows, d.Cout * plane, d.Wo, corners);
            float* dst = mg + (long)(g - g0) * tw;
            for (int co = 0; co < d.Cout; co++)
            {
                float* top = dy + co * plane;
                Split(Runs(top, corners, tw, 0), Runs(top, corners, tw, Lanes), out var a0, out var b0);
                Split(Runs(top + d.Wo, corners, tw, 0), Runs(top + d.Wo, corners, tw, Lanes), out var a1, out var b1);
                TileTransforms.GradientFromColumns(a0, b0, a1, b1, dst + (long)co * ld, positionStride);
            }
        }
        if (g < g1) TileTransforms.Gradient(dy, t, g, g1, mg + (long)(g - g0) * tw, ld, wide: true, scratch);
    }

    /// <summary>Where the group's tile rows g .. g + rows - 1 start, each at row 2 th of its image (of <paramref name="image"/> floats).</summary>
    private static void Corners(TileRows t, int g, int rows, long image, int rowLength, long* corners)
    {
        for (int j = 0; j < rows; j++)
        {
            int n = (g + j) / t.TilesH, th = (g + j) - n * t.TilesH;
            corners[j] = n * image + 2L * th * rowLength;
        }
    }

    /// <summary>One row of the group's input tiles (bordered rows from <paramref name="row"/> at each corner): columns 2 tw and
    /// 2 tw + 1 of each tile (E0, O0) from the run at the corner, 2 tw + 2 and 2 tw + 3 (E1, O1) from the run two further.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TileColumns Columns(float* row, long* corners, int tw)
    {
        Split(Runs(row, corners, tw, 0), Runs(row, corners, tw, Lanes), out var e0, out var o0);
        Split(Runs(row + 2, corners, tw, 0), Runs(row + 2, corners, tw, Lanes), out var e1, out var o1);
        return new TileColumns(e0, o0, e1, o1);
    }

    /// <summary>
    /// Columns <paramref name="first"/> .. first + 15 of the 32 a row of the group's 16 tiles covers: the runs of 2 tw
    /// pixels at the corners of tile rows first / (2 tw) onward, side by side.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Runs(float* row, long* corners, int tw, int first)
    {
        int j = first / (2 * tw);
        return tw switch
        {
            8 => Vector512.Load(row + corners[j]),
            4 => Vector512.Create(Vector256.Load(row + corners[j]), Vector256.Load(row + corners[j + 1])),
            _ => Vector512.Create(
                Vector256.Create(Vector128.Load(row + corners[j]), Vector128.Load(row + corners[j + 1])),
                Vector256.Create(Vector128.Load(row + corners[j + 2]), Vector128.Load(row + corners[j + 3]))),
        };
    }

    /// <summary>The inverse of <see cref="Runs"/>: pixels 0-15 of a row of the 16 tiles' outputs to their tile rows' runs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRuns(Vector512<float> even, Vector512<float> odd, float* row, long* corners, int tw)
    {
        TileTransforms.Interleave(even, odd, out var low, out var high);
        StoreHalf(low, row, corners, tw, 0);
        StoreHalf(high, row, corners, tw, Lanes / (2 * tw));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreHalf(Vector512<float> v, float* row, long* corners, int tw, int j)
    {
        switch (tw)
        {
            case 8:
                v.Store(row + corners[j]);
                break;
            case 4:
                v.GetLower().Store(row + corners[j]);
                v.GetUpper().Store(row + corners[j + 1]);
                break;
            default:
                v.GetLower().GetLower().Store(row + corners[j]);
                v.GetLower().GetUpper().Store(row + corners[j + 1]);
                v.GetUpper().GetLower().Store(row + corners[j + 2]);
                v.GetUpper().GetUpper().Store(row + corners[j + 3]);
                break;
        }
    }

    /// <summary>32 columns (low: 0-15, high: 16-31) split into the even and the odd ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split(Vector512<float> low, Vector512<float> high, out Vector512<float> even, out Vector512<float> odd)
    {
        var evenIndex = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        even = Avx512F.PermuteVar16x32x2(low, evenIndex, high);
        odd = Avx512F.PermuteVar16x32x2(low, evenIndex + Vector512<int>.One, high);
    }
}
