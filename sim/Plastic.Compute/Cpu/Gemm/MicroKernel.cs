using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Plastic.Compute.Cpu.Gemm;

/// <summary>A register-blocked micro-kernel and its tile: C[MR x NR] += A panel * B panel.</summary>
/// <param name="narrow">Kernels for a full-height tile only some vectors wide, reading B panels packed NR
/// wide: narrow[u - 1] writes the first u * <paramref name="vectorWidth"/> columns. A row of C whose
/// length leaves such a remainder (16 or 32 of 48 on every power-of-two image) ends in one of them
/// instead of a full kernel into scratch, which wasted a third to two thirds of its FMAs and copied the tile.</param>
/// <param name="store">The same kernels writing C = A panel * B panel without reading C (<see cref="RunStore"/>,
/// <see cref="NarrowFor"/>): the first K block of a product whose C would otherwise be cleared first.</param>
internal sealed unsafe class MicroKernel(string name, int mr, int nr, delegate*<int, float*, float*, float*, int, void> run,
    int vectorWidth, nint[] narrow, delegate*<int, float*, float*, float*, int, void> runStore, nint[] narrowStore)
{
    public string Name { get; } = name;
    public int MR { get; } = mr;
    public int NR { get; } = nr;
    public delegate*<int, float*, float*, float*, int, void> Run { get; } = run;
    /// <summary>C = A panel * B panel: the kernel of <see cref="Run"/> storing its tile instead of adding it to C's.</summary>
    public delegate*<int, float*, float*, float*, int, void> RunStore { get; } = runStore;

    public static readonly MicroKernel Avx512 = new("avx512 8x48", 8, 48, &MicroKernels.Kernel8x48, 16,
        [(nint)(delegate*<int, float*, float*, float*, int, void>)&MicroKernels.Kernel8x16Of48,
         (nint)(delegate*<int, float*, float*, float*, int, void>)&MicroKernels.Kernel8x32Of48],
        &MicroKernels.Kernel8x48Store,
        [(nint)(delegate*<int, float*, float*, float*, int, void>)&MicroKernels.Kernel8x16Of48Store,
         (nint)(delegate*<int, float*, float*, float*, int, void>)&MicroKernels.Kernel8x32Of48Store]);
    public static readonly MicroKernel Avx2 = new("avx2 6x16", 6, 16, &MicroKernels.Kernel6x16, 8,
        [(nint)(delegate*<int, float*, float*, float*, int, void>)&MicroKernels.Kernel6x8Of16],
        &MicroKernels.Kernel6x16Store,
        [(nint)(delegate*<int, float*, float*, float*, int, void>)&MicroKernels.Kernel6x8Of16Store]);
    public static readonly MicroKernel Vector128 = new("vector128 6x8", 6, 8, &MicroKernels.Kernel6x8, 4,
        [(nint)(delegate*<int, float*, float*, float*, int, void>)&MicroKernels.Kernel6x4Of8],
        &MicroKernels.Kernel6x8Store,
        [(nint)(delegate*<int, float*, float*, float*, int, void>)&MicroKernels.Kernel6x4Of8Store]);

    /// <summary>The kernel that writes exactly <paramref name="cols"/> columns of a full-height tile (storing them where <paramref name="store"/>), or null.</summary>
    public delegate*<int, float*, float*, float*, int, void> NarrowFor(int cols, bool store = false)
    {
        if (cols % vectorWidth != 0) return null;
        int vectors = cols / vectorWidth;
        var kernels = store ? narrowStore : narrow;
        return vectors >= 1 && vectors <= kernels.Length ? (delegate*<int, float*, float*, float*, int, void>)kernels[vectors - 1] : null;
    }

    /// <summary>
    /// Runs a kernel on a tile cut short by the edge of C: into a zeroed full-size scratch tile,
    /// then only its first rows x cols are added to C (written over C's where <paramref name="store"/>).
    /// </summary>
    public static void RunEdge(delegate*<int, float*, float*, float*, int, void> run, int mr, int nr, int kc, float* a, float* b,
        float* cTile, int ldc, int rows, int cols, float* scratch, bool store = false)
    {
        new Span<float>(scratch, mr * nr).Clear();
        run(kc, a, b, scratch, nr);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++)
                if (store) cTile[(long)r * ldc + j] = scratch[r * nr + j];
                else cTile[(long)r * ldc + j] += scratch[r * nr + j];
    }

    /// <summary>The widest kernel this CPU runs natively, unless <paramref name="widthBits"/> asks for a narrower one.</summary>
    public static MicroKernel Select(int? widthBits)
    {
        bool has512 = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;
        bool has256 = Vector256.IsHardwareAccelerated && Fma.IsSupported;
        return widthBits switch
        {
            null => has512 ? Avx512 : has256 ? Avx2 : Vector128,
            512 when has512 => Avx512,
            256 when has256 => Avx2,
            128 => Vector128,
            _ => throw new ArgumentException(
                $"SIMD width {widthBits} is not available on this CPU (available: {(has512 ? "512, " : "")}{(has256 ? "256, " : "")}128)."),
        };
    }
}
