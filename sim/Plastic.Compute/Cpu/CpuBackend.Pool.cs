namespace Plastic.Compute.Cpu;

public sealed partial class CpuBackend
{
    protected override void MaxPool2dForwardCore(Tensor input, Tensor output, IndexTensor argmax, PoolDims d)
    {
        var x = T(input); var y = T(output); var idx = I(argmax);
        _parallel.ForRanges(d.Planes, 1, (p0, p1) =>
        {
            var xs = x.Span; var ys = y.Span; var ids = idx.Span;
            for (int p = p0; p < p1; p++)
            {
                int planeIn = p * d.H * d.W, planeOut = p * d.Ho * d.Wo;
                for (int oh = 0; oh < d.Ho; oh++)
                    for (int ow = 0; ow < d.Wo; ow++)
                    {
                        // Ties go to the first maximum in row-major order, as in PyTorch. Selects, not
                        // branches: which element wins is random, and a branch would mispredict.
                        int best = planeIn + oh * d.Stride * d.W + ow * d.Stride;
                        float bestValue = xs[best];
                        for (int kh = 0; kh < d.K; kh++)
                        {
                            int row = planeIn + (oh * d.Stride + kh) * d.W + ow * d.Stride;
                            for (int kw = 0; kw < d.K; kw++)
                            {
                                float v = xs[row + kw];
                                bool wins = (v > bestValue) | float.IsNaN(v);
                                bestValue = wins ? v : bestValue;
                                best = wins ? row + kw : best;
                            }
                        }
                        ys[planeOut + oh * d.Wo + ow] = bestValue;
                        ids[planeOut + oh * d.Wo + ow] = best;
                    }
            }
        });
    }

    protected override void MaxPool2dBackwardCore(Tensor gradOutput, IndexTensor argmax, Tensor gradInput, PoolDims d)
    {
        var dy = T(gradOutput).Span; var ids = I(argmax).Span; var dx = T(gradInput).Span;
        dx.Clear();
        for (int i = 0; i < dy.Length; i++)
        {
            int at = ids[i];
            if ((uint)at >= (uint)dx.Length)
                throw new ArgumentException($"MaxPool2dBackward: argmax[{i}] = {at} is outside gradInput {gradInput.Shape}; was it produced by MaxPool2dForward on this shape?");
            dx[at] += dy[i];
        }
    }

    protected override void AvgPool2dForwardCore(Tensor input, Tensor output, PoolDims d)
    {
        var x = T(input); var y = T(output);
        float inv = 1f / (d.K * d.K);
        _parallel.ForRanges(d.Planes, 1, (p0, p1) =>
        {
            var xs = x.Span; var ys = y.Span;
            for (int p = p0; p < p1; p++)
            {
                int planeIn = p * d.H * d.W, planeOut = p * d.Ho * d.Wo;
                for (int oh = 0; oh < d.Ho; oh++)
                    for (int ow = 0; ow < d.Wo; ow++)
                    {
                        float sum = 0f;
                        for (int kh = 0; kh < d.K; kh++)
                        {
                            int row = planeIn + (oh * d.Stride + kh) * d.W + ow * d.Stride;
                            for (int kw = 0; kw < d.K; kw++) sum += xs[row + kw];
                        }
                        ys[planeOut + oh * d.Wo + ow] = sum * inv;
                    }
            }
        });
    }

    protected override void AvgPool2dBackwardCore(Tensor gradOutput, Tensor gradInput, PoolDims d)
    {
        var dy = T(gradOutput); var dx = T(gradInput);
        float inv = 1f / (d.K * d.K);
        _parallel.ForRanges(d.Planes, 1, (p0, p1) =>
        {
            var dys = dy.Span; var dxs = dx.Span;
            for (int p = p0; p < p1; p++)
            {
                int planeIn = p * d.H * d.W, planeOut = p * d.Ho * d.Wo;
                dxs.Slice(planeIn, d.H * d.W).Clear();
                for (int oh = 0; oh < d.Ho; oh++)
                    for (int ow = 0; ow < d.Wo; ow++)
                    {
                        float g = dys[planeOut + oh * d.Wo + ow] * inv;
                        for (int kh = 0; kh < d.K; kh++)
                        {
                            int row = planeIn + (oh * d.Stride + kh) * d.W + ow * d.Stride;
                            for (int kw = 0; kw < d.K; kw++) dxs[row + kw] += g;
                        }
                    }
            }
        });
    }
}
