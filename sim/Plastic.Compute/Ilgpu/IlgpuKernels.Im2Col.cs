using ILGPU;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// The layout kernels of convolutions computed as GEMMs: the batch's patches as columns (im2col), their
/// gradient folded back onto the images (col2im, a gather per input element, so no atomics), and the
/// output between N x Cout x pixels and Cout x (N pixels). Columns are ordered (image, row, column) and
/// patch rows (input channel, kernel row, kernel column), matching the weights' [Cout, Cin, K, K] layout.
/// </summary>
internal static partial class IlgpuKernels
{
    /// <summary>col[(ci K + kh) K + kw, (n Ho + oh) Wo + ow] = x[n, ci, oh s - p + kh, ow s - p + kw], 0 outside the image.</summary>
    public static void Im2Col(Index1D i, ArrayView<float> x, ArrayView<float> col, ConvArgs d)
    {
        int columns = d.N * d.Ho * d.Wo;
        int c = i % columns, r = i / columns;
        int ow = c % d.Wo, oh = c / d.Wo % d.Ho, n = c / (d.Wo * d.Ho);
        int kw = r % d.K, kh = r / d.K % d.K, ci = r / (d.K * d.K);
        int ih = oh * d.Stride - d.Pad + kh, iw = ow * d.Stride - d.Pad + kw;
        col[i] = ih >= 0 && ih < d.H && iw >= 0 && iw < d.W ? x[((n * d.Cin + ci) * d.H + ih) * d.W + iw] : 0f;
    }

    /// <summary>dx[n, ci, ih, iw] = sum of the patch-gradient entries that read that input element.</summary>
    public static void Col2Im(Index1D i, ArrayView<float> colGrad, ArrayView<float> dx, ConvArgs d)
    {
        int iw = i % d.W, ih = i / d.W % d.H, ci = i / (d.W * d.H) % d.Cin, n = i / (d.W * d.H * d.Cin);
        int columns = d.N * d.Ho * d.Wo;
        float sum = 0f;
        // One pass over the kernel's offsets: each that an output position reads this element through adds its entry.
        for (int offset = 0; offset < d.K * d.K; offset++)
        {
            int kh = offset / d.K, kw = offset % d.K;
            int oh = OutputReading(ih, kh, d.Pad, d.Stride, d.Ho), ow = OutputReading(iw, kw, d.Pad, d.Stride, d.Wo);
            if (oh >= 0 && ow >= 0) sum += colGrad[(ci * d.K * d.K + offset) * columns + (n * d.Ho + oh) * d.Wo + ow];
        }
        dx[i] = sum;
    }

    /// <summary>rows[co, (n Ho + oh) Wo + ow] = y[n, co, oh, ow].</summary>
    public static void ImagesToRows(Index1D i, ArrayView<float> y, ArrayView<float> rows, ConvArgs d)
    {
        int pixels = d.Ho * d.Wo, columns = d.N * pixels;
        int c = i % columns, co = i / columns;
        int n = c / pixels, p = c % pixels;
        rows[i] = y[(n * d.Cout + co) * pixels + p];
    }

    /// <summary>y[n, co, oh, ow] = rows[co, (n Ho + oh) Wo + ow] (+ bias[co]).</summary>
    public static void RowsToImages(Index1D i, ArrayView<float> rows, ArrayView<float> bias, ArrayView<float> y, ConvArgs d, int hasBias)
    {
        int pixels = d.Ho * d.Wo;
        int p = i % pixels, co = i / pixels % d.Cout, n = i / (pixels * d.Cout);
        y[i] = rows[co * d.N * pixels + n * pixels + p] + (hasBias != 0 ? bias[co] : 0f);
    }
}
