using System.Buffers;
using Plastic.Compute.Cpu.Gemm;
using Plastic.Compute.Cpu.Winograd;

namespace Plastic.Compute.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>
    /// Below this many output pixels per image a per-image GEMM is too narrow to keep the
    /// micro-kernel busy, so the whole batch becomes one GEMM (columns = batch x pixels).
    /// </summary>
    private const int PerImageGemmMinPixels = 1024;

    protected override unsafe void Conv2dForwardCore(Tensor input, Tensor weight, Tensor? bias, Tensor output, ConvDims d)
    {
        float* b = bias is null ? null : T(bias).Pointer;
        if (UsesWinograd(d))
        {
            ConvolveByWinograd(T(weight).Pointer, flippedTransposed: false, T(input).Pointer, b, T(output).Pointer, d);
            return;
        }
        Convolve(new StridedMatrix(T(weight).Pointer, d.Patch, 1), T(input).Pointer, b, T(output).Pointer, d);
    }

    /// <summary>
    /// Winograd needs 3x3 and stride 1. Under Auto it also needs AVX-512, where its tile transforms run 16 tiles per
    /// vector, and 16+ channels on both sides. With output rows of 32+ pixels it is used for all three passes:
    /// measured on Zen 4 (2 threads, im2col / Winograd ms, forward, input and weight gradients): 64x32x32x32->64
    /// 14.8/10.4, 17.9/12.4, 16.8/12.5; 32x128x32x32->256 102/80, 112/88, 118/99. On narrower rows (4 to 16 pixels)
    /// a vector's tiles span several tile rows, and the transforms cost more against the products the fewer
    /// channels there are: Winograd is used where Cin x Cout is 2048 or more (the weight gradient: see
    /// WinogradConvolution's NarrowSmallSumFloats). Measured at 1/8 width, batch 64 (direct / Winograd ms, forward and
    /// input gradient): 32x16x16->32 0.75/0.81, 0.77/0.89; 32x16x16->64 1.42/1.24, 1.50/1.55; 64x8x8->128 1.54/1.16,
    /// 1.76/1.37; 128x4x4->128 0.84/0.56, 0.99/0.57; at full width, batch 32 (forward and input gradient):
    /// 256x16x16->256 22.9/15.5, 26.9/16.2; 256x16x16->512 44.6/31.6, 49.5/32.8; 512x8x8->1024 44.5/28.6, 50.7/31.6;
    /// 1024x4x4->1024 22.1/20.2, 28.1/24.5.
    /// </summary>
    private bool UsesWinograd(ConvDims d) => d.K == 3 && d.Stride == 1 && Convolution switch
    {
        ConvolutionAlgorithm.Winograd => true,
        ConvolutionAlgorithm.Auto => d.Cin >= 16 && d.Cout >= 16 && _gemm.Kernel == MicroKernel.Avx512
            && (d.Wo >= 32 || (NarrowTileTransforms.Applies(d, wide: true) && d.Cin * d.Cout >= 2048)),
        _ => false,
    };

    private unsafe void ConvolveByWinograd(float* weight, bool flippedTransposed, float* input, float* bias, float* output, ConvDims d)
    {
        // Kept per thread between calls (megabytes for wide layers: a new array per call would load the GC).
        // The workers of Forward use their own private slot, so the caller's shared slot is free here.
        float* up = ThreadScratch.Shared((long)WinogradF2x3.Positions * d.Cout * d.Cin);
        // The kernel as stored is [Cout][Cin] of the convolution it belongs to; for the input
        // gradient d is the transposed convolution, whose Cout is the stored kernel's Cin.
        if (flippedTransposed) _winograd.TransformWeights(weight, d.Cin, d.Cout, true, up);
        else _winograd.TransformWeights(weight, d.Cout, d.Cin, false, up);
        _winograd.Forward(up, input, bias, output, d);
    }

    /// <summary>output = W * patches(input) (+ bias), as implicit-im2col GEMMs; W is [Cout x Patch].</summary>
    private unsafe void Convolve<TW>(TW w, float* input, float* bias, float* output, ConvDims d) where TW : struct, IPanelSourceA
    {
        if (PaddedImages.Applies(d))
        {
            input = PaddedImages.Copy(_parallel, input, d);
            d = PaddedImages.Dims(d);
        }
        if (d.Pixels >= PerImageGemmMinPixels && d.N >= Threads)
        {
            // One single-threaded GEMM per image, images spread over the threads: no copy of the output.
            nint x = (nint)input, y = (nint)output, b = (nint)bias;
            var engine = _gemm;
            var dims = d;
            _parallel.ForRanges(d.N, 1, (n0, n1) =>
            {
                for (int n = n0; n < n1; n++)
                {
                    float* yn = (float*)y + (long)n * dims.OutputImage;
                    FillRowsWithBias(yn, (float*)b, dims.Cout, dims.Pixels);
                    engine.Multiply(0, dims.Cout, 0, dims.Pixels, dims.Patch, w, new ImagePatches((float*)x + (long)n * dims.InputImage, dims), yn, dims.Pixels);
                }
            });
            return;
        }

        int columns = d.N * d.Pixels;
        var scratch = ArrayPool<float>.Shared.Rent(d.Cout * columns);
        try
        {
            fixed (float* s = scratch)
            {
                FillRowsWithBias(s, bias, d.Cout, columns);
                if (IndirectConvolution.Applies(_gemm.Kernel, d)) IndirectConvolution.Multiply(_gemm, _parallel, w, input, s, d);
                else _gemm.MultiplyParallel(_parallel, d.Cout, columns, d.Patch, w, new ImagePatches(input, d), s, columns);
                nint src = (nint)s, dst = (nint)output;
                _parallel.ForRanges(d.N, 1, (n0, n1) =>
                {
                    for (int n = n0; n < n1; n++)
                        for (int co = 0; co < d.Cout; co++)
                            new ReadOnlySpan<float>((float*)src + (long)co * columns + (long)n * d.Pixels, d.Pixels)
                                .CopyTo(new Span<float>((float*)dst + (long)n * d.OutputImage + (long)co * d.Pixels, d.Pixels));
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private static unsafe void FillRowsWithBias(float* rows, float* bias, int count, int length)
    {
        for (int r = 0; r < count; r++)
            new Span<float>(rows + (long)r * length, length).Fill(bias == null ? 0f : bias[r]);
    }

    protected override unsafe void Conv2dBackwardInputCore(Tensor gradOutput, Tensor weight, Tensor gradInput, ConvDims d)
    {
        if (d.Stride == 1 && d.Pad <= d.K - 1 && d.Cin >= MinChannelsForFlippedConvolution)
        {
            // With stride 1 the input gradient is itself a convolution of dY with the kernel flipped
            // in space and transposed in channels, padded by K-1-pad: the forward path, M = Cin.
            var transposed = new ConvDims(d.N, d.Cout, d.Ho, d.Wo, d.Cin, d.H, d.W, d.K, 1, d.K - 1 - d.Pad);
            if (UsesWinograd(transposed))
            {
                ConvolveByWinograd(T(weight).Pointer, flippedTransposed: true, T(gradOutput).Pointer, null, T(gradInput).Pointer, transposed);
                return;
            }
            Convolve(new FlippedKernel(T(weight).Pointer, d.Cin, d.K), T(gradOutput).Pointer, null, T(gradInput).Pointer, transposed);
            return;
        }
        BackwardInputByColumns((nint)T(gradOutput).Pointer, (nint)T(weight).Pointer, (nint)T(gradInput).Pointer, d);
    }

    /// <summary>
    /// The flipped convolution has M = Cin rows; below a micro-tile's worth of rows (an RGB input
    /// layer) most of each tile would be padding, and W^T * dY followed by col2im is faster.
    /// </summary>
    private const int MinChannelsForFlippedConvolution = 8;

    /// <summary>General strides: cols = W^T * dY_n per image, then scatter-add the columns into dX_n (col2im).</summary>
    private unsafe void BackwardInputByColumns(nint gradOutput, nint weight, nint gradInput, ConvDims d)
    {
        var engine = _gemm;
        var wT = new StridedMatrix((float*)weight, 1, d.Patch);
        _parallel.ForRanges(d.N, 1, (n0, n1) =>
        {
            var columns = new float[(long)d.Patch * d.Pixels];
            fixed (float* cols = columns)
            {
                for (int n = n0; n < n1; n++)
                {
                    Array.Clear(columns);
                    var dy = new StridedMatrix((float*)gradOutput + (long)n * d.OutputImage, d.Pixels, 1);
                    engine.Multiply(0, d.Patch, 0, d.Pixels, d.Cout, wT, dy, cols, d.Pixels);
                    ScatterColumns(cols, (float*)gradInput + (long)n * d.InputImage, d);
                }
            }
        });
    }

    private static unsafe void ScatterColumns(float* cols, float* dx, ConvDims d)
    {
        new Span<float>(dx, d.InputImage).Clear();
        int kk = d.K * d.K;
        for (int p = 0; p < d.Patch; p++)
        {
            int ci = p / kk, kh = p % kk / d.K, kw = p % d.K;
            float* plane = dx + (long)ci * d.H * d.W;
            float* row = cols + (long)p * d.Pixels;
            for (int oh = 0; oh < d.Ho; oh++)
            {
                int ih = oh * d.Stride - d.Pad + kh;
                if ((uint)ih >= (uint)d.H) continue;
                for (int ow = 0; ow < d.Wo; ow++)
                {
                    int iw = ow * d.Stride - d.Pad + kw;
                    if ((uint)iw < (uint)d.W) plane[ih * d.W + iw] += row[oh * d.Wo + ow];
                }
            }
        }
    }

    protected override unsafe void Conv2dBackwardWeightCore(Tensor input, Tensor gradOutput, Tensor gradWeight, Tensor? gradBias, ConvDims d, bool accumulate)
    {
        if (UsesWinograd(d))
            _winograd.WeightGradient(T(input).Pointer, T(gradOutput).Pointer, T(gradWeight).Pointer, accumulate, d);
        else
            WeightGradientByColumns(input, gradOutput, gradWeight, d, accumulate);
        if (gradBias is not null)
            BiasGradientCore(gradOutput, gradBias, new BiasLayout(d.N, d.Cout, d.Pixels), accumulate);
    }

    private unsafe void WeightGradientByColumns(Tensor input, Tensor gradOutput, Tensor gradWeight, ConvDims d, bool accumulate)
    {
        // dW [Cout x Patch] = dY [Cout x (batch pixels)] * cols^T: one product whose K runs over the
        // whole batch, with both operands read along K. C is split between threads, never K, so the
        // result does not depend on the thread count.
        if (!accumulate) T(gradWeight).Span.Clear();
        float* x = T(input).Pointer;
        var patches = d;
        if (PaddedImages.Applies(d))
        {
            x = PaddedImages.Copy(_parallel, x, d);
            patches = PaddedImages.Dims(d);
        }
        if (IndirectWeightGradient.Applies(_dotGemm, patches))
        {
            IndirectWeightGradient.Multiply(_dotGemm, _parallel, T(gradOutput).Pointer, x, T(gradWeight).Pointer, patches);
            return;
        }
        _dotGemm.MultiplyParallel(_parallel, d.Cout, d.Patch, d.N * d.Pixels,
            new ChannelRows(T(gradOutput).Pointer, d.Cout, d.Pixels), new PatchRows(x, patches),
            T(gradWeight).Pointer, d.Patch, splitColumns: true);
    }
}
