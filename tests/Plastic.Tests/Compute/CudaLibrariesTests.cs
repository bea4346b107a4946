using System.Runtime.InteropServices;
using Plastic.Compute.Ilgpu;

namespace Plastic.Tests.Compute;

/// <summary>
/// The names tried when a CUDA library does not load under the name ILGPU asks for (CudaLibraries). The
/// loading itself can only be seen on a GPU machine (experiments/bench/gpu.sh prints which names loaded).
/// </summary>
public sealed class CudaLibrariesTests
{
    [Theory]
    [InlineData("cuda", "libcuda.so.1")]
    [InlineData("libcuda.so", "libcuda.so.1")]
    [InlineData("libcublas.so.12", "libcublas.so.13")]
    public void A_missing_cuda_library_is_looked_for_under_the_name_the_driver_or_toolkit_installs(string requested, string fallback) =>
        Assert.Equal([fallback], CudaLibraries.FallbacksFor(requested));

    [Theory]
    [InlineData("libcublas.so.11")]
    [InlineData("OpenCL")]
    [InlineData("libSkiaSharp")]
    public void Other_libraries_get_no_fallback(string requested) => Assert.Empty(CudaLibraries.FallbacksFor(requested));

    [Fact]
    public void The_resolver_returns_the_first_fallback_that_loads_and_nothing_when_none_does()
    {
        var tried = new List<string>();
        IntPtr Loads(string name) { tried.Add(name); return name == "libcuda.so.1" ? 42 : IntPtr.Zero; }
        Assert.Equal(42, CudaLibraries.Resolve("cuda", Loads));
        Assert.Equal(["libcuda.so.1"], tried);

        Assert.Equal(IntPtr.Zero, CudaLibraries.Resolve("libcublas.so.12", _ => IntPtr.Zero));
        tried.Clear();
        Assert.Equal(IntPtr.Zero, CudaLibraries.Resolve("libplastic-no-such-library.so", Loads));
        Assert.Empty(tried); // a library that is not CUDA's is left to fail as it would have
    }

    [Fact]
    public void With_the_fallbacks_installed_a_missing_library_still_fails_to_load()
    {
        CudaLibraries.Install();
        CudaLibraries.Install(); // once per process, whoever calls first
        // The overload with an assembly raises ResolvingUnmanagedDll, so this goes through the installed handler.
        Assert.False(NativeLibrary.TryLoad("libplastic-no-such-library.so", typeof(CudaLibraries).Assembly, null, out _));
    }
}
