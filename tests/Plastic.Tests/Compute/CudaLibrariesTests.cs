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
    public void Installing_the_fallbacks_leaves_a_missing_library_missing()
    {
        CudaLibraries.Install();
        CudaLibraries.Install(); // once per process, whoever calls first
        Assert.False(NativeLibrary.TryLoad("libplastic-no-such-library.so", out _));
    }
}
