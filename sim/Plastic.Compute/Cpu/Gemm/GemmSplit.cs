namespace Plastic.Compute.Cpu.Gemm;

/// <summary>How a product's C is cut between threads; shared by the GEMM engines.</summary>
internal static class GemmSplit
{
    /// <summary>
    /// Calls <paramref name="block"/>(row0, rows, col0, cols) once per thread. C is cut along the side
    /// with more micro-tiles unless <paramref name="splitColumns"/> says otherwise: cutting columns
    /// divides the B packing between threads (worth it when B is costly to pack, as im2col patches
    /// are), cutting rows divides the A packing. Each C element is computed by one thread only.
    /// </summary>
    public static void Run(CpuParallel parallel, int m, int n, int mr, int nr, bool? splitColumns, Action<int, int, int, int> block)
    {
        int columnTiles = (n + nr - 1) / nr, rowTiles = (m + mr - 1) / mr;
        bool byColumns = splitColumns ?? columnTiles >= rowTiles;
        if (byColumns && columnTiles < parallel.Threads && rowTiles >= parallel.Threads) byColumns = false;
        if (byColumns)
            parallel.ForRanges(n, nr, (j0, j1) => block(0, m, j0, j1 - j0));
        else
            parallel.ForRanges(m, mr, (i0, i1) => block(i0, i1 - i0, 0, n));
    }

    /// <summary>
    /// The length of each K block when K is summed in blocks of at most <paramref name="kc"/>: equal blocks (288 =
    /// 144 + 144, not 256 + 32), so no block is too short to amortise its C traffic. Every path that must give the
    /// same sums as an engine (the in-place convolutions) splits K with this.
    /// </summary>
    public static int KStep(int k, int kc)
    {
        int blocks = (k + kc - 1) / kc;
        return (k + blocks - 1) / blocks;
    }
}
