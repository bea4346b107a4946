using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Plastic.Compute.Cpu.Gemm;

namespace Plastic.Compute.Cpu.Winograd;

/// <summary>
/// 3x3 stride-1 convolutions by Winograd F(2x2, 3x3): transform tiles, 16 GEMMs (one per position
/// xi: M_xi = U_xi V_xi over channels), transform back. 2.25 times fewer multiplications than the
/// direct convolution, for a transform cost that is linear in the data.
/// </summary>
internal sealed unsafe class WinogradConvolution(GemmEngine gemm, DotMicroKernel dot, CpuParallel parallel, bool wide)
{
    private const int Positions = WinogradF2x3.Positions;

    /// <summary>
    /// Floats of transformed tiles a block may hold per thread (V and M together): small enough to
    /// stay in a 1 MiB L2 between the transform, the GEMMs and the inverse transform...
    /// </summary>
    private const int L2BlockFloats = 1 << 17;

    /// <summary>...but at least this many tiles, the N (or K) of the block's GEMMs: measured on Zen 4,
    /// 64x32x32x32 -> 64 runs in 12.9, 11.5, 10.7 and 10.4 ms with 48, 96, 192 and 384.</summary>
    private const int MinBlockTiles = 384;

    /// <summary>The same with the narrow transforms. Measured at 1/8 width, batch 64, 2 threads, blocks balanced over the
    /// threads (forward ms with 96, 128, 192 and 384 tiles, three alternated rounds, 2026-12-04): 32x16x16->64
    /// 1.07-1.17, 1.19-1.22, 1.09-1.18, 1.10-1.17; 64x8x8->128 0.90-1.10, 0.97-0.99, 0.92-0.96, 0.93-0.95;
    /// 128x4x4->128 0.57-0.78, 0.55-0.74, 0.55-0.56, 0.55-0.58.</summary>
    private const int NarrowMinBlockTiles = 192;

    /// <summary>
    /// Tiles per weight-gradient block, the K of its dot products: measured on Zen 4 for
    /// 64x32x32x32 -> 64, 15.6, 13.4, 12.5, 12.7, 12.4 and 16.9 ms with 256, 384, 512, 768, 1024 and 2048.
    /// </summary>
    private const int GradientBlockTiles = 768;

    /// <summary>
    /// Per-thread sums of the weight gradient are kept below this many floats; above it (wide layers)
    /// the threads share one sum and split its 16 GEMMs instead.
    /// </summary>
    private const int PartialSumFloats = 1 << 20;

    /// <summary>
    /// The weight gradient of narrow rows (<see cref="NarrowTileTransforms"/>) always shares one sum between the threads:
    /// its 16 products are GEMMs along the tiles of a block, where a thread's own share of a batch of small images left
    /// the dot kernel short sums. While dU (16 Cout Cin floats) stays within about an L2 per thread, blocks are
    /// <see cref="NarrowMinBlockTiles"/> tiles, so that V and Mg stay near the caches; past it, blocks as for wide layers
    /// (few updates of a dU that lives in L3). Measured on Zen 4, 2 threads, ms direct / Winograd: at 1/8 width, batch 64,
    /// blocks of 192 tiles, 32x16x16->64 1.60-1.98/1.47; 64x8x8->128 1.64-1.93/1.05; 128x4x4->128 0.96-0.98/0.54; at full
    /// width, batch 32, one block, 256x16x16->256 32.2/19.7, 256x16x16->512 65.3/31.9, 512x8x8->1024 65.1/31.4,
    /// 1024x4x4->1024 31.4/24.2.
    /// </summary>
    private const int NarrowSmallSumFloats = 2 * L2BlockFloats;

    /// <summary>Floats of transformed tiles one shared weight-gradient block holds (64 MiB).</summary>
    private const int SharedBlockFloats = 1 << 24;

    /// <summary>
    /// U[xi][o][i] = (G g G^T)[xi] for a kernel of outChannels x inChannels 3x3 taps. With
    /// <paramref name="flippedTransposed"/>, w is the kernel of the transposed convolution (the input
    /// gradient): U[xi][i][o] from w[o][i] flipped in space.
    /// </summary>
    public void TransformWeights(float* w, int outChannels, int inChannels, bool flippedTransposed, float* u)
    {
        long stride = (long)outChannels * inChannels;
        // U's index along which 16 kernels become one vector: i in U[o][i], o in the transposed U[i][o].
        int rows = flippedTransposed ? inChannels : outChannels, lanes = flippedTransposed ? outChannels : inChannels;
        nint wAddress = (nint)w, uAddress = (nint)u;
        parallel.ForRanges(rows, 1, (r0, r1) =>
        {
            float* taps = stackalloc float[9 * 16];
            // Along U's lanes the stored kernels lie 9 floats apart (w[o][i], i the lane) or 9 Cin apart (o the lane).
            int apart = flippedTransposed ? 9 * inChannels : 9;
            var first8 = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * apart;
            for (int r = r0; r < r1; r++)
            {
                float* ur = (float*)uAddress + (long)r * lanes;
                int l = 0;
                if (wide)
                    for (; l + 16 <= lanes; l += 16)
                    {
                        float* g = Kernel((float*)wAddress, inChannels, flippedTransposed, r, l);
                        for (int t = 0; t < 9; t++)
                        {
                            float* tap = g + (flippedTransposed ? 8 - t : t);
                            Avx2.GatherVector256(tap, first8, 4).Store(taps + 16 * t);
                            Avx2.GatherVector256(tap + 8L * apart, first8, 4).Store(taps + 16 * t + 8);
                        }
                        WinogradF2x3.TransformKernels16(taps, ur + l, stride);
                    }
                for (; l < lanes; l++)
                    WinogradF2x3.TransformKernel(Kernel((float*)wAddress, inChannels, flippedTransposed, r, l), flippedTransposed, ur + l, stride);
            }
        });
    }

    /// <summary>The stored 3x3 kernel w[o][i] at row r and lane l of U's layout.</summary>
    private static float* Kernel(float* w, int inChannels, bool flippedTransposed, int r, int l)
    {
        int o = flippedTransposed ? l : r, i = flippedTransposed ? r : l;
        return w + ((long)o * inChannels + i) * 9;
    }

    /// <summary>gradWeight[oi] (+)= G^T dU[.][oi] G for every kernel oi, 16 at a time where vectors are wide.</summary>
    private void TransformGradients(float* du, int kernels, float* gradWeight, bool accumulate)
    {
        nint duAddress = (nint)du, gw = (nint)gradWeight;
        int groups = wide ? kernels / 16 : 0;
        parallel.ForRanges(groups, 1, (k0, k1) =>
        {
            float* dg = stackalloc float[9 * 16];
            for (int k = k0; k < k1; k++)
            {
                WinogradF2x3.TransformKernelGradients16((float*)duAddress + 16L * k, kernels, dg);
                float* target = (float*)gw + 16L * 9 * k;
                for (int lane = 0; lane < 16; lane++)
                    for (int t = 0; t < 9; t++)
                    {
                        if (accumulate) target[9 * lane + t] += dg[16 * t + lane];
                        else target[9 * lane + t] = dg[16 * t + lane];
                    }
            }
        });
        for (long oi = 16L * groups; oi < kernels; oi++)
            WinogradF2x3.TransformKernelGradient(du + oi, kernels, gradWeight + oi * 9, accumulate);
    }

    /// <summary>
    /// output = conv3x3(input) (+ bias) with U from <see cref="TransformWeights"/> ([16][d.Cout][d.Cin]).
    /// Each output element is computed the same way whichever thread computes it: the result does not
    /// depend on the thread count.
    /// </summary>
    public void Forward(float* u, float* input, float* bias, float* output, ConvDims d)
    {
        var tiles = new TileRows(d);
        bool narrow = NarrowTileTransforms.Applies(d, wide);
        // Blocks in a multiple of the thread count, so that no thread is left with one more than the others (a
        // batch of small images can be only a few blocks). The blocks do not change what is computed (each GEMM's K is Cin).
        int minTiles = narrow ? NarrowMinBlockTiles : MinBlockTiles;
        int rows = tiles.RowsFor(Math.Max(minTiles, L2BlockFloats / (Positions * (d.Cin + d.Cout))));
        int threads = parallel.Threads, blockCount = ((tiles.Count + rows - 1) / rows + threads - 1) / threads * threads;
        int rowsPerBlock = BlockRows(tiles, narrow, (tiles.Count + blockCount - 1) / blockCount);
        int blocks = (tiles.Count + rowsPerBlock - 1) / rowsPerBlock;
        int ld = rowsPerBlock * tiles.TilesW;
        float* borderedInput = narrow ? Bordered(input, d) : input;
        nint uAddress = (nint)u, x = (nint)input, bordered = (nint)borderedInput, b = (nint)bias, y = (nint)output;
        parallel.ForRanges(blocks, 1, (first, end) =>
        {
            long vFloats = (long)Positions * d.Cin * ld, mFloats = (long)Positions * d.Cout * ld;
            float* v = ThreadScratch.Private(vFloats + mFloats + TileTransforms.ScratchFloats(tiles));
            float* m = v + vFloats, scratch = m + mFloats;
            for (int block = first; block < end; block++)
            {
                int g0 = block * rowsPerBlock, g1 = Math.Min(tiles.Count, g0 + rowsPerBlock);
                int count = (g1 - g0) * tiles.TilesW;
                if (narrow) NarrowTileTransforms.Input((float*)bordered, (float*)x, tiles, g0, g1, v, ld, scratch);
                else TileTransforms.Input((float*)x, tiles, g0, g1, v, ld, wide, scratch);
                // M is written, not added to: no clearing pass over it first (1.5 % of a backprop step, 2026-12-05).
                for (int xi = 0; xi < Positions; xi++)
                    gemm.Multiply(0, d.Cout, 0, count, d.Cin,
                        new StridedMatrix((float*)uAddress + (long)xi * d.Cout * d.Cin, d.Cin, 1),
                        new StridedMatrix(v + (long)xi * d.Cin * ld, ld, 1),
                        m + (long)xi * d.Cout * ld, ld, overwrite: true);
                if (narrow) NarrowTileTransforms.Output(m, ld, tiles, g0, g1, (float*)b, (float*)y);
                else TileTransforms.Output(m, ld, tiles, g0, g1, (float*)b, (float*)y, wide);
            }
        });
    }

    /// <summary>Tile rows per block: with the narrow transforms, whole groups of tile rows, which fill their vectors.</summary>
    private static int BlockRows(TileRows tiles, bool narrow, int rows)
    {
        if (!narrow) return rows;
        int group = NarrowTileTransforms.GroupRows(tiles);
        return Math.Max(group, (rows + group - 1) / group * group);
    }

    /// <summary>The input with its zero border written out, which the narrow transforms read (the input itself without a border).</summary>
    private float* Bordered(float* input, ConvDims d) => PaddedImages.Applies(d) ? PaddedImages.Copy(parallel, input, d) : input;

    /// <summary>
    /// gradWeight (+)= dL/dW: dU_xi = sum over tiles of (A dY A^T)_xi (B^T d B)_xi^T, then dW = G^T dU G.
    /// Deterministic for a given thread count.
    /// </summary>
    public void WeightGradient(float* input, float* gradOutput, float* gradWeight, bool accumulate, ConvDims d)
    {
        long uFloats = (long)Positions * d.Cout * d.Cin;
        float* bordered = NarrowTileTransforms.Applies(d, wide) ? Bordered(input, d) : null;
        bool shared = bordered != null || uFloats * parallel.Threads > PartialSumFloats;
        float* du = !shared
            ? SumPerThread(input, gradOutput, d)
            : SumShared(input, bordered, gradOutput, d);
        TransformGradients(du, d.Cout * d.Cin, gradWeight, accumulate);
    }

    /// <summary>
    /// Few channels on rows of 32+ pixels: each thread sums its own share of the tiles, block by block, into its own dU;
    /// the sums are then added in thread order. The transformed blocks are already rows contiguous
    /// along the tiles, the layout of the dot micro-kernel's panels, so its GEMMs run without packing
    /// (with a C of only Cout x Cin, packing would cost more than the multiplications).
    /// </summary>
    private float* SumPerThread(float* input, float* gradOutput, ConvDims d)
    {
        var tiles = new TileRows(d);
        int rowsPerBlock = tiles.RowsFor(GradientBlockTiles);
        int width = dot.Width, ld = (rowsPerBlock * tiles.TilesW + width - 1) / width * width;
        long uFloats = (long)Positions * d.Cout * d.Cin;
        int parts = Math.Min(parallel.Threads, tiles.Count);
        float* sums = ThreadScratch.Shared(uFloats * parts);
        new Span<float>(sums, checked((int)(uFloats * parts))).Clear();
        nint x = (nint)input, dy = (nint)gradOutput, sumsAddress = (nint)sums;
        parallel.For(parts, part =>
        {
            int r0 = (int)((long)tiles.Count * part / parts), r1 = (int)((long)tiles.Count * (part + 1) / parts);
            long vFloats = (long)Positions * d.Cin * ld, mFloats = (long)Positions * d.Cout * ld;
            // Edge tiles of the kernel read whole panels, up to NR - 1 rows past the last: slack (zeroed when
            // allocated, never written; what edge tiles read there is discarded anyway).
            long slack = (long)dot.NR * ld;
            float* v = ThreadScratch.Private(vFloats + mFloats + slack + dot.MR * dot.NR + TileTransforms.ScratchFloats(tiles));
            float* mg = v + vFloats, edgeTile = mg + mFloats + slack, scratch = edgeTile + dot.MR * dot.NR;
            float* du = (float*)sumsAddress + part * uFloats;
            for (int g0 = r0; g0 < r1; g0 += rowsPerBlock)
            {
                int g1 = Math.Min(r1, g0 + rowsPerBlock), count = (g1 - g0) * tiles.TilesW;
                Transform((float*)x, null, (float*)dy, tiles, g0, g1, v, mg, ld, scratch);
                if (count < ld)
                {
                    // A short last block: the dot products run over all ld columns, so the ones past
                    // its tiles must hold zeros, not the previous block's values.
                    ClearColumns(mg, Positions * d.Cout, ld, count);
                    ClearColumns(v, Positions * d.Cin, ld, count);
                }
                AddProductsInPlace(mg, v, ld, du, d, edgeTile);
            }
        });
        for (int part = 1; part < parts; part++)
            System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(sums, (int)uFloats),
                new ReadOnlySpan<float>(sums + part * uFloats, (int)uFloats), new Span<float>(sums, (int)uFloats));
        return sums;
    }

    /// <summary>The weight gradient's two transforms of tile rows g0 .. g1 - 1: the input's to v, dY's to mg (narrow ones where
    /// <paramref name="bordered"/>, the input with its border, is given).</summary>
    private void Transform(float* input, float* bordered, float* dy, TileRows tiles, int g0, int g1, float* v, float* mg, int ld, float* scratch)
    {
        if (bordered != null)
        {
            NarrowTileTransforms.Input(bordered, input, tiles, g0, g1, v, ld, scratch);
            NarrowTileTransforms.Gradient(dy, tiles, g0, g1, mg, ld, scratch);
            return;
        }
        TileTransforms.Input(input, tiles, g0, g1, v, ld, wide, scratch);
        TileTransforms.Gradient(dy, tiles, g0, g1, mg, ld, wide, scratch);
    }

    /// <summary>Zeroes columns count .. ld - 1 of each row: tiles a short last block does not have.</summary>
    private static void ClearColumns(float* rows, int rowCount, int ld, int count)
    {
        for (long r = 0; r < rowCount; r++) new Span<float>(rows + r * ld + count, ld - count).Clear();
    }

    /// <summary>dU_xi += Mg_xi V_xi^T with the dot micro-kernel straight on the transformed rows (K = ld).</summary>
    private void AddProductsInPlace(float* mg, float* v, int ld, float* du, ConvDims d, float* edgeTile)
    {
        int mr = dot.MR, nr = dot.NR;
        var run = dot.Run;
        for (int xi = 0; xi < Positions; xi++)
        {
            float* a = mg + (long)xi * d.Cout * ld, b = v + (long)xi * d.Cin * ld, c = du + (long)xi * d.Cout * d.Cin;
            for (int co = 0; co < d.Cout; co += mr)
            {
                int rows = Math.Min(mr, d.Cout - co);
                for (int ci = 0; ci < d.Cin; ci += nr)
                {
                    int cols = Math.Min(nr, d.Cin - ci);
                    float* cTile = c + (long)co * d.Cin + ci;
                    if (rows == mr && cols == nr) run(ld, a + (long)co * ld, b + (long)ci * ld, cTile, d.Cin);
                    else MicroKernel.RunEdge(run, mr, nr, ld, a + (long)co * ld, b + (long)ci * ld, cTile, d.Cin, rows, cols, edgeTile);
                }
            }
        }
    }

    /// <summary>
    /// Many channels, or rows of 4 to 16 pixels: blocks of tiles are transformed by all threads, then the 16 products
    /// are shared out by position, each summed by one thread in block order (the result does not depend on the thread count).
    /// </summary>
    private float* SumShared(float* input, float* bordered, float* gradOutput, ConvDims d)
    {
        var tiles = new TileRows(d);
        long uFloats = (long)Positions * d.Cout * d.Cin;
        int rowsPerBlock = bordered != null && uFloats <= NarrowSmallSumFloats
            ? BlockRows(tiles, narrow: true, tiles.RowsFor(NarrowMinBlockTiles))
            : tiles.RowsFor(Math.Max(MinBlockTiles, SharedBlockFloats / (Positions * (d.Cin + d.Cout))));
        int ld = rowsPerBlock * tiles.TilesW;
        long vFloats = (long)Positions * d.Cin * ld, mFloats = (long)Positions * d.Cout * ld;
        float* v = ThreadScratch.Shared(vFloats + mFloats + uFloats);
        float* mg = v + vFloats, du = mg + mFloats;
        new Span<float>(du, checked((int)uFloats)).Clear();
        nint x = (nint)input, xb = (nint)bordered, dy = (nint)gradOutput, vAddress = (nint)v, mAddress = (nint)mg, duAddress = (nint)du;
        for (int g0 = 0; g0 < tiles.Count; g0 += rowsPerBlock)
        {
            int g1 = Math.Min(tiles.Count, g0 + rowsPerBlock), count = (g1 - g0) * tiles.TilesW;
            parallel.ForRanges(g1 - g0, 1, (r0, r1) =>
            {
                float* scratch = ThreadScratch.Private(TileTransforms.ScratchFloats(tiles));
                long shift = (long)r0 * tiles.TilesW;
                Transform((float*)x, (float*)xb, (float*)dy, tiles, g0 + r0, g0 + r1, (float*)vAddress + shift, (float*)mAddress + shift, ld, scratch);
            });
            parallel.ForRanges(Positions, 1, (xi0, xi1) => AddProducts((float*)mAddress, (float*)vAddress, ld, count, (float*)duAddress, xi0, xi1, d));
        }
        return du;
    }

    /// <summary>dU_xi += Mg_xi V_xi^T over <paramref name="count"/> tiles, for positions xi0 .. xi1 - 1.</summary>
    private void AddProducts(float* mg, float* v, int ld, int count, float* du, int xi0, int xi1, ConvDims d)
    {
        for (int xi = xi0; xi < xi1; xi++)
            gemm.Multiply(0, d.Cout, 0, d.Cin, count,
                new StridedMatrix(mg + (long)xi * d.Cout * ld, ld, 1),
                new StridedMatrix(v + (long)xi * d.Cin * ld, 1, ld),
                du + (long)xi * d.Cout * d.Cin, d.Cin);
    }
}
