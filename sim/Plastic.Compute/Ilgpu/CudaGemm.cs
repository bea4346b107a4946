using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// GEMM through cuBLAS (ILGPU.Algorithms) on a CUDA device, for row-major tensors: cuBLAS is column-major,
/// and a row-major r x c matrix is its column-major transpose, so C = op(A) op(B) is computed as
/// C^T = op(B)^T op(A)^T with the operands swapped and each keeping its own transpose flag. On by default on
/// CUDA since its first GPU run (H200, 2026-12-04: every step's losses within 2.2e-6 of the CPU backend on
/// mlp-3 and the 1/8-width VGG-6; the full-width VGG-6 3.5x (CLAPP++) and 6.4x (BP-InfoNCE) faster than
/// ILGPU's tiled kernel). PLASTIC_CUBLAS=0 keeps ILGPU's kernel; where cuBLAS does not load, ILGPU's kernel
/// is used unless PLASTIC_CUBLAS=1 asked for cuBLAS explicitly.
/// </summary>
internal sealed class CudaGemm : IDisposable
{
    public const string Variable = "PLASTIC_CUBLAS";
    private readonly CuBlas _blas;

    private CudaGemm(CudaAccelerator accelerator)
    {
        _blas = new CuBlas(accelerator);
        try
        {
            _blas.PointerMode = CuBlasPointerMode.Host; // alpha and beta are host floats
        }
        catch
        {
            _blas.Dispose();
            throw;
        }
    }

    /// <summary>
    /// PLASTIC_CUBLAS as given: null when unset (cuBLAS where it loads), true for 1 (cuBLAS, or an error), false
    /// for 0 (ILGPU's kernel). Read before a device is opened, so that a wrong value costs no accelerator start.
    /// </summary>
    public static bool? Setting(string? value) => value?.Trim() switch
    {
        null or "" => null,
        "1" => true,
        "0" => false,
        var other => throw new ArgumentException($"{Variable} must be 0 (ILGPU's GEMM kernel) or 1 (cuBLAS), not '{other}'."),
    };

    public static bool? Setting() => Setting(Environment.GetEnvironmentVariable(Variable));

    /// <summary>A cuBLAS handle for a CUDA accelerator unless PLASTIC_CUBLAS=0 (or cuBLAS is missing and was not asked for); else null.</summary>
    public static CudaGemm? For(Accelerator accelerator, bool? asked)
    {
        if (accelerator is not CudaAccelerator cuda || asked == false) return null;
        try
        {
            return new CudaGemm(cuda);
        }
        catch (Exception e) when (asked is null && e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or CuBlasException)
        {
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or CuBlasException)
        {
            throw new InvalidOperationException($"{Variable}=1 asks for cuBLAS, but it could not be loaded ({e.Message}); " +
                "install cuBLAS (libcublas.so.12 or .13 on the loader's path) or set PLASTIC_CUBLAS=0.", e);
        }
    }

    /// <summary>C (m x n) = alpha op(A) op(B) + beta C, all row-major with leading dimensions their column counts.</summary>
    public void Run(ArrayView<float> a, bool transposeA, int lda, ArrayView<float> b, bool transposeB, int ldb, ArrayView<float> c,
        int m, int n, int k, float alpha, float beta) =>
        _blas.Gemm(Op(transposeB), Op(transposeA), n, m, k, alpha, b, ldb, a, lda, beta, c, n);

    private static CuBlasOperation Op(bool transpose) => transpose ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose;

    public void Dispose() => _blas.Dispose();
}
