using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Plastic.Compute.Cpu.Gemm;

/// <summary>Copies whole rows of an operand, contiguous along K: row r of the block to dst + r * stride.</summary>
internal unsafe interface IRowSource
{
    void PackRows(float* dst, int stride, int row0, int rows, int k0, int kc);
}

/// <summary>A micro-kernel for C += A * B^T with both panels contiguous along K (see MicroKernels.Dot*).</summary>
internal sealed unsafe class DotMicroKernel(string name, int mr, int nr, int width, delegate*<int, float*, float*, float*, int, void> run)
{
    public string Name { get; } = name;
    public int MR { get; } = mr;
    public int NR { get; } = nr;
    /// <summary>Floats per vector: panels are zero-padded along K to a multiple of it.</summary>
    public int Width { get; } = width;
    public delegate*<int, float*, float*, float*, int, void> Run { get; } = run;

    public static DotMicroKernel Matching(MicroKernel kernel) =>
        kernel == MicroKernel.Avx512 ? new("avx512 dot 4x6", 4, 6, 16, &MicroKernels.Dot4x6Vector512)
        : kernel == MicroKernel.Avx2 ? new("avx2 dot 3x3", 3, 3, 8, &MicroKernels.Dot3x3Vector256)
        : new("vector128 dot 3x3", 3, 3, 4, &MicroKernels.Dot3x3Vector128);
}

/// <summary>
/// Blocked C[rows, cols] += A * B^T where both A and B are read as rows contiguous along K. This is
/// the shape of a convolution's weight gradient (dY rows times im2col rows, summed over pixels):
/// both operands pack with plain vector copies, where the broadcast kernel would need a transpose.
/// KC is long (1024) because each tile ends with one horizontal sum per accumulator: measured on
/// Zen 4, the kernel runs at 75, 92 and 102 GFLOP/s per core for KC 256, 512 and 1024.
/// </summary>
internal sealed unsafe class DotGemmEngine(DotMicroKernel kernel, int kc = 1024, int nc = 288)
{
    public DotMicroKernel Kernel { get; } = kernel;
    /// <summary>How much of K one block sums before its tiles are added to C.</summary>
    public int KC => kc;

    public void Multiply<TA, TB>(int row0, int rows, int col0, int cols, int k, in TA a, in TB b, float* c, int ldc)
        where TA : struct, IRowSource
        where TB : struct, IRowSource
    {
        if (rows <= 0 || cols <= 0 || k <= 0) return;
        int mr = Kernel.MR, nr = Kernel.NR, w = Kernel.Width;
        int ncMax = (nc + nr - 1) / nr * nr;
        int kStep = GemmSplit.KStep(k, kc);
        int kPadMax = (kStep + w - 1) / w * w;
        if (rows <= MaxRowsWithBTilesStreamed)
        {
            MultiplyStreamingB(row0, rows, col0, cols, k, kStep, kPadMax, a, b, c, ldc);
            return;
        }
        using var scratch = new ScratchBlock(kPadMax * (ncMax + mr) + mr * nr);
        float* packedB = scratch.Pointer;
        float* packedA = packedB + kPadMax * ncMax;
        float* edgeTile = packedA + kPadMax * mr;

        for (int jc = col0; jc < col0 + cols; jc += ncMax)
        {
            int ncur = Math.Min(ncMax, col0 + cols - jc);
            for (int pc = 0; pc < k; pc += kStep)
            {
                int kcur = Math.Min(kStep, k - pc), kPad = (kcur + w - 1) / w * w;
                PackPanels(b, packedB, kPad, jc, ncur, nr, pc, kcur);
                for (int ip = row0; ip < row0 + rows; ip += mr)
                {
                    int tileRows = Math.Min(mr, row0 + rows - ip);
                    PackPanels(a, packedA, kPad, ip, tileRows, mr, pc, kcur);
                    for (int jp = 0; jp < ncur; jp += nr)
                    {
                        int tileCols = Math.Min(nr, ncur - jp);
                        RunTile(kPad, packedA, packedB + jp * kPad, c + (long)ip * ldc + jc + jp, ldc, tileRows, tileCols, edgeTile);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Up to this many rows of A (512 KiB packed at KC 1024, half of a Zen 4 core's L2) are packed whole for each
    /// K block, and B is packed a few tiles at a time (<see cref="TilesPerBChunk"/>), each chunk run against every
    /// row tile while it is in L2. The blocked order above packs a B block of NC x KC (1.2 MB, more than L2) and
    /// sweeps it once per row tile: a convolution's weight gradient (32-128 output channels at 1/8 width) read
    /// its im2col block from L3 as many times as it has row tiles. Tiles and the order of each C element's
    /// sums are the same.
    /// </summary>
    private const int MaxRowsWithBTilesStreamed = 128;

    /// <summary>B tiles packed together (48 rows, 192 KiB at KC 1024): few enough to stay in L2 beside A, enough that
    /// each packing call (an im2col split into pixel runs) copies whole panels, not six rows.</summary>
    private const int TilesPerBChunk = 8;

    private void MultiplyStreamingB<TA, TB>(int row0, int rows, int col0, int cols, int k, int kStep, int kPadMax, in TA a, in TB b, float* c, int ldc)
        where TA : struct, IRowSource
        where TB : struct, IRowSource
    {
        int mr = Kernel.MR, nr = Kernel.NR, w = Kernel.Width, chunk = TilesPerBChunk * nr;
        int paddedRows = (rows + mr - 1) / mr * mr;
        using var scratch = new ScratchBlock(kPadMax * (paddedRows + chunk) + mr * nr);
        float* packedA = scratch.Pointer;
        float* packedB = packedA + (long)kPadMax * paddedRows;
        float* edgeTile = packedB + (long)kPadMax * chunk;
        for (int pc = 0; pc < k; pc += kStep)
        {
            int kcur = Math.Min(kStep, k - pc), kPad = (kcur + w - 1) / w * w;
            PackPanels(a, packedA, kPad, row0, rows, mr, pc, kcur);
            for (int jc = col0; jc < col0 + cols; jc += chunk)
            {
                int ncur = Math.Min(chunk, col0 + cols - jc);
                PackPanels(b, packedB, kPad, jc, ncur, nr, pc, kcur);
                for (int jp = 0; jp < ncur; jp += nr)
                {
                    int tileCols = Math.Min(nr, ncur - jp);
                    float* bTile = packedB + (long)jp * kPad;
                    for (int ip = 0; ip < rows; ip += mr)
                    {
                        int tileRows = Math.Min(mr, rows - ip);
                        RunTile(kPad, packedA + (long)ip * kPad, bTile, c + (long)(row0 + ip) * ldc + jc + jp, ldc, tileRows, tileCols, edgeTile);
                    }
                }
            }
        }
    }

    /// <summary>One C tile: the kernel itself where the tile is whole, else through a scratch tile cut to the edge.</summary>
    private void RunTile(int kPad, float* aTile, float* bTile, float* cTile, int ldc, int tileRows, int tileCols, float* edgeTile)
    {
        if (tileRows == Kernel.MR && tileCols == Kernel.NR) Kernel.Run(kPad, aTile, bTile, cTile, ldc);
        else MicroKernel.RunEdge(Kernel.Run, Kernel.MR, Kernel.NR, kPad, aTile, bTile, cTile, ldc, tileRows, tileCols, edgeTile);
    }

    /// <summary>Rows first .. first + count - 1, then zero rows up to a whole panel, each zero-padded to kPad.</summary>
    internal static void PackPanels<TS>(in TS source, float* dst, int kPad, int first, int count, int panel, int k0, int kc) where TS : struct, IRowSource
    {
        source.PackRows(dst, kPad, first, count, k0, kc);
        int padded = (count + panel - 1) / panel * panel;
        for (int r = 0; r < padded; r++)
        {
            if (r >= count) new Span<float>(dst + (long)r * kPad, kPad).Clear();
            else if (kc < kPad) new Span<float>(dst + (long)r * kPad + kc, kPad - kc).Clear();
        }
    }

    public void MultiplyParallel<TA, TB>(CpuParallel parallel, int m, int n, int k, TA a, TB b, float* c, int ldc, bool? splitColumns = null)
        where TA : struct, IRowSource
        where TB : struct, IRowSource
    {
        nint cAddress = (nint)c;
        GemmSplit.Run(parallel, m, n, Kernel.MR, Kernel.NR, splitColumns,
            (row0, rows, col0, cols) => Multiply(row0, rows, col0, cols, k, a, b, (float*)cAddress, ldc));
    }
}
