using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// Finds the CUDA libraries under the names a Linux machine really has. ILGPU 1.5.3 imports the driver as
/// "cuda", which the loader resolves to libcuda.so, a link that only a CUDA toolkit's development files
/// create: a machine with the driver alone (a GPU container, a cloud image) has libcuda.so.1 only, and ILGPU
/// would report no CUDA device. ILGPU.Algorithms knows cuBLAS up to major version 12 (libcublas.so.12);
/// cuBLAS 13, which CUDA 13 installs, keeps the v2 C functions it calls (handle, stream, pointer mode, SGEMM)
/// with the same signatures, so it is offered under the names ILGPU asks for. Used only when the name asked
/// for did not load, so a machine that has the name is not changed.
/// </summary>
internal static class CudaLibraries
{
    private static int _installed;

    /// <summary>Hooks the fallback names into the default load context, once per process (Linux only).</summary>
    public static void Install()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _installed, 1) == 1) return;
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
    }

    /// <summary>The names to try, in order, when <paramref name="requested"/> did not load; empty for other libraries.</summary>
    public static IReadOnlyList<string> FallbacksFor(string requested) => requested switch
    {
        "cuda" or "libcuda.so" => ["libcuda.so.1"],
        "libcublas.so.12" or "libcublas.so" => ["libcublas.so.13"],
        _ => [],
    };

    private static IntPtr Resolve(Assembly assembly, string requested) => Resolve(requested, TryLoad);

    /// <summary>The first fallback of <paramref name="requested"/> that <paramref name="load"/> opens, else zero (the load fails as before).</summary>
    internal static IntPtr Resolve(string requested, Func<string, IntPtr> load)
    {
        foreach (var name in FallbacksFor(requested))
        {
            var handle = load(name);
            if (handle != IntPtr.Zero) return handle;
        }
        return IntPtr.Zero;
    }

    // The plain TryLoad does not raise ResolvingUnmanagedDll again, so a missing fallback cannot recurse.
    private static IntPtr TryLoad(string name) => NativeLibrary.TryLoad(name, out var handle) ? handle : IntPtr.Zero;
}
