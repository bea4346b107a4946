using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// GEMM through cuBLAS (ILGPU.Algorithms) on a CUDA device, for row-major tensors: cuBLAS is column-major,
/// and a row-major r x c matrix is its column-major transpose, so C = op(A) op(B) is computed as
/// C^T = op(B)^T op(A)^T with the operands swapped and each keeping its own transpose flag. Off unless
/// PLASTIC_CUBLAS=1 until it has been checked on a GPU (experiments/bench/gpu.sh runs the CUDA checks with
/// and without it); ILGPU's tiled kernel is used otherwise.
/// </summary>
internal sealed class CudaGemm : IDisposable
{
    public const string Variable = "PLASTIC_CUBLAS";
    private readonly CuBlas _blas;

    private CudaGemm(CudaAccelerator accelerator)
    {
        _blas = new CuBlas(accelerator);
        _blas.PointerMode = CuBlasPointerMode.Host; // alpha and beta are host floats
    }

    /// <summary>A cuBLAS handle for a CUDA accelerator when PLASTIC_CUBLAS=1, else null.</summary>
    public static CudaGemm? For(Accelerator accelerator) =>
        accelerator is CudaAccelerator cuda && Environment.GetEnvironmentVariable(Variable)?.Trim() == "1" ? new CudaGemm(cuda) : null;

    /// <summary>C (m x n) = alpha op(A) op(B) + beta C, all row-major with leading dimensions their column counts.</summary>
    public void Run(ArrayView<float> a, bool transposeA, int lda, ArrayView<float> b, bool transposeB, int ldb, ArrayView<float> c,
        int m, int n, int k, float alpha, float beta) =>
        _blas.Gemm(Op(transposeB), Op(transposeA), n, m, k, alpha, b, ldb, a, lda, beta, c, n);

    private static CuBlasOperation Op(bool transpose) => transpose ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose;

    public void Dispose() => _blas.Dispose();
}
