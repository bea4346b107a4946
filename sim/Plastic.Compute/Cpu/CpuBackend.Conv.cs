using Plastic.Compute.Cpu.Gemm;

namespace Plastic.Compute.Cpu;

public sealed partial class CpuBackend
{
    protected override unsafe void Conv2dForwardCore(Tensor input, Tensor weight, Tensor? bias, Tensor output, ConvDims d) =>
        ConvolveImages((nint)T(input).Pointer, (nint)T(weight).Pointer, bias is null ? 0 : (nint)T(bias).Pointer, (nint)T(output).Pointer, d);

    /// <summary>output_n = W * patches(x_n) (+ bias), one image per task, each a single-threaded GEMM.</summary>
    private unsafe void ConvolveImages(nint input, nint weight, nint bias, nint output, ConvDims d)
    {
        var engine = _gemm;
        var w = new StridedMatrix((float*)weight, d.Patch, 1);
        _parallel.ForRanges(d.N, 1, (n0, n1) =>
        {
            for (int n = n0; n < n1; n++)
            {
                float* y = (float*)output + (long)n * d.OutputImage;
                for (int co = 0; co < d.Cout; co++)
                    new Span<float>(y + (long)co * d.Pixels, d.Pixels).Fill(bias == 0 ? 0f : ((float*)bias)[co]);
                var patches = new ImagePatches((float*)input + (long)n * d.InputImage, d);
                engine.Multiply(d.Cout, d.Pixels, d.Patch, w, patches, y, d.Pixels);
            }
        });
    }

    protected override unsafe void Conv2dBackwardInputCore(Tensor gradOutput, Tensor weight, Tensor gradInput, ConvDims d)
    {
        if (d.Stride == 1 && d.Pad <= d.K - 1)
        {
            // With stride 1 the input gradient is itself a convolution of dY with the weights
            // flipped in space and transposed in channels, padded by K-1-pad: reuse the fast path.
            var flipped = FlipAndTransposeKernel(T(weight).Span, d);
            fixed (float* f = flipped)
            {
                var transposed = new ConvDims(d.N, d.Cout, d.Ho, d.Wo, d.Cin, d.H, d.W, d.K, 1, d.K - 1 - d.Pad);
                ConvolveImages((nint)T(gradOutput).Pointer, (nint)f, 0, (nint)T(gradInput).Pointer, transposed);
            }
            return;
        }
        BackwardInputByColumns((nint)T(gradOutput).Pointer, (nint)T(weight).Pointer, (nint)T(gradInput).Pointer, d);
    }

    private static float[] FlipAndTransposeKernel(ReadOnlySpan<float> w, ConvDims d)
    {
        int kk = d.K * d.K;
        var f = new float[w.Length];
        for (int co = 0; co < d.Cout; co++)
            for (int ci = 0; ci < d.Cin; ci++)
                for (int t = 0; t < kk; t++)
                    f[(ci * d.Cout + co) * kk + (kk - 1 - t)] = w[(co * d.Cin + ci) * kk + t];
        return f;
    }

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
                    engine.Multiply(d.Patch, d.Pixels, d.Cout, wT, dy, cols, d.Pixels);
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
        // dW^T [Patch x Cout] = sum_n patches(x_n) [Patch x Pixels] * dY_n^T [Pixels x Cout]; each
        // thread sums its own images, then the partial sums are added in thread order.
        var engine = _gemm;
        nint x = (nint)T(input).Pointer, dy = (nint)T(gradOutput).Pointer;
        int parts = Math.Max(1, Math.Min(Threads, d.N));
        var partials = new float[parts][];
        _parallel.For(parts, part =>
        {
            var sum = new float[(long)d.Patch * d.Cout];
            fixed (float* s = sum)
            {
                for (int n = d.N * part / parts; n < d.N * (part + 1) / parts; n++)
                {
                    var patches = new ImagePatches((float*)x + (long)n * d.InputImage, d);
                    var dyT = new StridedMatrix((float*)dy + (long)n * d.OutputImage, 1, d.Pixels);
                    engine.Multiply(d.Patch, d.Cout, d.Pixels, patches, dyT, s, d.Cout);
                }
            }
            partials[part] = sum;
        });

        var dw = T(gradWeight).Span;
        if (!accumulate) dw.Clear();
        foreach (var sum in partials)
            for (int p = 0; p < d.Patch; p++)
                for (int co = 0; co < d.Cout; co++)
                    dw[co * d.Patch + p] += sum[p * d.Cout + co];

        if (gradBias is not null)
            BiasGradientCore(gradOutput, gradBias, new BiasLayout(d.N, d.Cout, d.Pixels), accumulate);
    }
}
