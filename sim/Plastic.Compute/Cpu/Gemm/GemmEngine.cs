using System.Runtime.InteropServices;

namespace Plastic.Compute.Cpu.Gemm;

/// <summary>
/// BLIS-style blocked GEMM on one thread: C[rows, cols] += op(A) * op(B) over a block of C, where A
/// and B are read only through panel sources (plain matrices, or image patches for convolutions),
/// addressed with absolute row and column indices. Loop order: a B block (KC x NC) is packed once;
/// each A micro-panel (MR x KC) stays in L1 while the kernel sweeps the B block. Each C element is
/// summed in one fixed order, so results do not depend on how callers split C between threads.
/// Block sizes were measured on Zen 4 (1 MiB L2 per core): KC 384 and NC 1024 are within a few per
/// cent of the best of a sweep over KC 192..512 and NC 512..2048 for the GEMM and convolution shapes.
/// </summary>
internal sealed unsafe class GemmEngine(MicroKernel kernel, int kc = 384, int mc = 96, int nc = 1024)
{
    public MicroKernel Kernel { get; } = kernel;
    public int KC { get; } = kc;
    public int MC { get; } = RoundUp(mc, kernel.MR);
    public int NC { get; } = RoundUp(nc, kernel.NR);

    /// <summary>
    /// C[i, j] += sum_p A[i, p] B[p, j] for i in [row0, row0 + rows), j in [col0, col0 + cols); c points at C[0, 0].
    /// With <paramref name="overwrite"/>, C[i, j] = the sum: the first K block stores its tiles, so C's old values
    /// are never read (the same bits as clearing C first: the kernels' sums start at +0 and are never -0).
    /// </summary>
    public void Multiply<TA, TB>(int row0, int rows, int col0, int cols, int k, in TA a, in TB b, float* c, int ldc, bool overwrite = false)
        where TA : struct, IPanelSourceA
        where TB : struct, IPanelSourceB
    {
        if (rows <= 0 || cols <= 0 || k <= 0) return;
        int mr = Kernel.MR, nr = Kernel.NR;
        // Where C has several column blocks, A would be packed again for each: a convolution's kernel (A) over
        // a batch's pixels (16 blocks of 1,024 columns for 64 16x16 images) packed its few thousand values 16
        // times. A small A is packed once, whole, before the first block instead; the values are the same.
        int paddedRows = RoundUp(rows, mr);
        bool packAOnce = cols > NC && (long)paddedRows * k <= PackAOnceMaxFloats;
        var scratch = Scratch.ForCurrentThread(MC * KC + NC * KC + mr * nr + (packAOnce ? paddedRows * k : 0));
        float* packedA = scratch;
        float* packedB = scratch + MC * KC;
        float* edgeTile = packedB + NC * KC;
        float* wholeA = edgeTile + mr * nr;   // packAOnce: K block pc starts at wholeA + pc * paddedRows
        var run = Kernel.Run;
        int kStep = GemmSplit.KStep(k, KC);
        if (packAOnce)
            for (int pc = 0; pc < k; pc += kStep)
            {
                int kcur = Math.Min(kStep, k - pc);
                for (int ip = 0; ip < rows; ip += mr)
                    a.PackA(wholeA + (long)pc * paddedRows + ip * kcur, mr, row0 + ip, Math.Min(mr, rows - ip), pc, kcur);
            }

        for (int jc = col0; jc < col0 + cols; jc += NC)
        {
            int ncur = Math.Min(NC, col0 + cols - jc);
            for (int pc = 0; pc < k; pc += kStep)
            {
                int kcur = Math.Min(kStep, k - pc);
                bool store = overwrite && pc == 0;
                var tileKernel = store ? Kernel.RunStore : run;
                for (int jp = 0; jp < ncur; jp += nr)
                    b.PackB(packedB + jp * kcur, nr, pc, kcur, jc + jp, Math.Min(nr, ncur - jp));

                for (int ic = row0; ic < row0 + rows; ic += MC)
                {
                    int mcur = Math.Min(MC, row0 + rows - ic);
                    float* aBlock = packAOnce ? wholeA + (long)pc * paddedRows + (ic - row0) * kcur : packedA;
                    if (!packAOnce)
                        for (int ip = 0; ip < mcur; ip += mr)
                            a.PackA(packedA + ip * kcur, mr, ic + ip, Math.Min(mr, mcur - ip), pc, kcur);

                    for (int ip = 0; ip < mcur; ip += mr)
                    {
                        int tileRows = Math.Min(mr, mcur - ip);
                        float* aPanel = aBlock + ip * kcur;
                        for (int jp = 0; jp < ncur; jp += nr)
                        {
                            int tileCols = Math.Min(nr, ncur - jp);
                            float* cTile = c + (long)(ic + ip) * ldc + jc + jp;
                            if (tileRows == mr && tileCols == nr)
                            {
                                tileKernel(kcur, aPanel, packedB + jp * kcur, cTile, ldc);
                                continue;
                            }
                            var narrow = tileRows == mr ? Kernel.NarrowFor(tileCols, store) : null;
                            if (narrow != null)
                            {
                                narrow(kcur, aPanel, packedB + jp * kcur, cTile, ldc);
                                continue;
                            }
                            MicroKernel.RunEdge(run, mr, nr, kcur, aPanel, packedB + jp * kcur, cTile, ldc, tileRows, tileCols, edgeTile, store);
                        }
                    }
                }
            }
        }
    }

    /// <summary>The largest A packed once for all column blocks (256 Ki floats, 1 MiB: the largest 1/8-width VGG-6 kernel is 147 Ki).</summary>
    private const long PackAOnceMaxFloats = 256 * 1024;

    /// <summary>The whole m x n product on up to <paramref name="parallel"/>.Threads threads (see <see cref="GemmSplit"/>).</summary>
    public void MultiplyParallel<TA, TB>(CpuParallel parallel, int m, int n, int k, TA a, TB b, float* c, int ldc, bool? splitColumns = null)
        where TA : struct, IPanelSourceA
        where TB : struct, IPanelSourceB
    {
        nint cAddress = (nint)c;
        GemmSplit.Run(parallel, m, n, Kernel.MR, Kernel.NR, splitColumns,
            (row0, rows, col0, cols) => Multiply(row0, rows, col0, cols, k, a, b, (float*)cAddress, ldc));
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    /// <summary>64-byte aligned packing memory, one block per thread, grown on demand and kept.</summary>
    private static class Scratch
    {
        [ThreadStatic] private static ScratchBlock? t_block;

        public static float* ForCurrentThread(int floats)
        {
            var block = t_block;
            if (block is null || block.Floats < floats)
            {
                block?.Dispose();
                t_block = block = new ScratchBlock(floats);
            }
            return block.Pointer;
        }
    }
}

/// <summary>Native memory that is freed when its owner (a thread's scratch slot) lets go of it.</summary>
internal sealed unsafe class ScratchBlock : IDisposable
{
    public ScratchBlock(int floats)
    {
        Floats = floats;
        Pointer = (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
    }

    public int Floats { get; }
    public float* Pointer { get; private set; }

    public void Dispose()
    {
        if (Pointer == null) return;
        NativeMemory.AlignedFree(Pointer);
        Pointer = null;
        GC.SuppressFinalize(this);
    }

    ~ScratchBlock() => Dispose();
}
