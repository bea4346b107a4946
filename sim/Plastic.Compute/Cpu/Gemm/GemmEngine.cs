using System.Runtime.InteropServices;

namespace Plastic.Compute.Cpu.Gemm;

/// <summary>
/// BLIS-style blocked GEMM on one thread: C[m x n] += op(A) * op(B), where A and B are read only
/// through panel sources (plain matrices, or image patches for convolutions). Loop order: a B block
/// (KC x NC) is packed to stay in L2; each A micro-panel (MR x KC) stays in L1 while the kernel
/// sweeps the B block. Each C element is summed in one fixed order, so results do not depend on
/// how callers split C between threads.
/// </summary>
internal sealed unsafe class GemmEngine(MicroKernel kernel, int kc = 256, int mc = 96, int nc = 512)
{
    public MicroKernel Kernel { get; } = kernel;
    public int KC { get; } = kc;
    public int MC { get; } = RoundUp(mc, kernel.MR);
    public int NC { get; } = RoundUp(nc, kernel.NR);

    public void Multiply<TA, TB>(int m, int n, int k, in TA a, in TB b, float* c, int ldc)
        where TA : struct, IPanelSourceA
        where TB : struct, IPanelSourceB
    {
        if (m == 0 || n == 0 || k == 0) return;
        int mr = Kernel.MR, nr = Kernel.NR;
        var scratch = Scratch.ForCurrentThread(MC * KC + NC * KC + mr * nr);
        float* packedA = scratch;
        float* packedB = scratch + MC * KC;
        float* edgeTile = packedB + NC * KC;
        var run = Kernel.Run;

        for (int jc = 0; jc < n; jc += NC)
        {
            int ncur = Math.Min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC)
            {
                int kcur = Math.Min(KC, k - pc);
                for (int jp = 0; jp < ncur; jp += nr)
                    b.PackB(packedB + jp * kcur, nr, pc, kcur, jc + jp, Math.Min(nr, ncur - jp));

                for (int ic = 0; ic < m; ic += MC)
                {
                    int mcur = Math.Min(MC, m - ic);
                    for (int ip = 0; ip < mcur; ip += mr)
                        a.PackA(packedA + ip * kcur, mr, ic + ip, Math.Min(mr, mcur - ip), pc, kcur);

                    for (int ip = 0; ip < mcur; ip += mr)
                    {
                        int rows = Math.Min(mr, mcur - ip);
                        float* aPanel = packedA + ip * kcur;
                        for (int jp = 0; jp < ncur; jp += nr)
                        {
                            int cols = Math.Min(nr, ncur - jp);
                            float* cTile = c + (long)(ic + ip) * ldc + jc + jp;
                            if (rows == mr && cols == nr)
                            {
                                run(kcur, aPanel, packedB + jp * kcur, cTile, ldc);
                            }
                            else
                            {
                                new Span<float>(edgeTile, mr * nr).Clear();
                                run(kcur, aPanel, packedB + jp * kcur, edgeTile, nr);
                                for (int r = 0; r < rows; r++)
                                    for (int j = 0; j < cols; j++)
                                        cTile[(long)r * ldc + j] += edgeTile[r * nr + j];
                            }
                        }
                    }
                }
            }
        }
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
