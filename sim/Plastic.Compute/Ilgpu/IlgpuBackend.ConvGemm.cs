using ILGPU;
using ILGPU.Runtime;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// Convolutions as GEMMs (on with cuBLAS, the default on CUDA, where a GEMM is what the device does best):
/// the batch's patches unfolded into columns once (im2col), then
/// forward:       Y' (Cout x N.pix) = W (Cout x Cin.K.K) col (Cin.K.K x N.pix), laid back out as images (+ bias);
/// input grad:    col' = W^T dY', folded back onto the images (col2im);
/// weight grad:   dW (+)= dY' col^T.
/// The unfolded batch is scratch for the call (Cin.K.K x N.pix floats).
/// </summary>
public sealed partial class IlgpuBackend
{
    private void GemmViews(ArrayView<float> a, bool transposeA, int lda, ArrayView<float> b, bool transposeB, int ldb, ArrayView<float> c,
        int m, int n, int k, float alpha, float beta)
    {
        if (_device.CudaGemm is { } blas)
        {
            blas.Run(a, transposeA, lda, b, transposeB, ldb, c, m, n, k, alpha, beta);
            return;
        }
        const int tile = IlgpuKernels.GemmTile, threads = IlgpuKernels.GemmThreads;
        var config = new KernelConfig(new Index2D((n + tile - 1) / tile, (m + tile - 1) / tile), new Index2D(threads, threads));
        Kernels.GemmTiled(config, a, b, c, new GemmArgs(m, n, k, transposeA, transposeB, lda, ldb, alpha, beta));
    }

    private void ConvForwardAsGemm(Tensor input, Tensor weight, Tensor? bias, Tensor output, ConvDims d) => Run(() =>
    {
        var args = new ConvArgs(d);
        int patch = d.Cin * d.K * d.K, columns = d.N * d.Ho * d.Wo;
        using var col = _device.Pool.Scratch<float>((long)patch * columns);
        using var rows = _device.Pool.Scratch<float>((long)d.Cout * columns);
        Kernels.Im2Col((int)col.Length, V(input), col.View, args);
        GemmViews(V(weight), false, patch, col.View, false, columns, rows.View, d.Cout, columns, patch, 1f, 0f);
        Kernels.RowsToImages(output.Length, rows.View, bias is null ? V(weight) : V(bias), V(output), args, bias is null ? 0 : 1);
    });

    private void ConvBackwardInputAsGemm(Tensor gradOutput, Tensor weight, Tensor gradInput, ConvDims d) => Run(() =>
    {
        var args = new ConvArgs(d);
        int patch = d.Cin * d.K * d.K, columns = d.N * d.Ho * d.Wo;
        using var rows = _device.Pool.Scratch<float>((long)d.Cout * columns);
        using var colGrad = _device.Pool.Scratch<float>((long)patch * columns);
        Kernels.ImagesToRows((int)rows.Length, V(gradOutput), rows.View, args);
        GemmViews(V(weight), true, patch, rows.View, false, columns, colGrad.View, patch, columns, d.Cout, 1f, 0f);
        Kernels.Col2Im(gradInput.Length, colGrad.View, V(gradInput), args);
    });

    private void ConvBackwardWeightAsGemm(Tensor input, Tensor gradOutput, Tensor gradWeight, ConvDims d, bool accumulate) => Run(() =>
    {
        var args = new ConvArgs(d);
        int patch = d.Cin * d.K * d.K, columns = d.N * d.Ho * d.Wo;
        using var col = _device.Pool.Scratch<float>((long)patch * columns);
        using var rows = _device.Pool.Scratch<float>((long)d.Cout * columns);
        Kernels.Im2Col((int)col.Length, V(input), col.View, args);
        Kernels.ImagesToRows((int)rows.Length, V(gradOutput), rows.View, args);
        GemmViews(rows.View, false, columns, col.View, true, columns, V(gradWeight), d.Cout, patch, columns, 1f, accumulate ? 1f : 0f);
    });
}
