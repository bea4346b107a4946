namespace Plastic.Compute.Cpu.Gemm;

/// <summary>
/// The im2col matrix of one NCHW image, never materialised: row p = (ci, kh, kw) of the patch,
/// column q = (oh, ow) of the output pixel, value = x[ci, oh*s - pad + kh, ow*s - pad + kw] or 0.
/// As B it feeds the forward convolution (W * cols); as A the weight gradient (cols * dY^T).
/// </summary>
internal readonly unsafe struct ImagePatches(float* image, ConvDims d) : IPanelSourceA, IPanelSourceB
{
    public void PackB(float* dst, int nr, int k0, int kc, int col0, int cols)
    {
        for (int k = 0; k < kc; k++)
        {
            float* row = dst + k * nr;
            GatherRow(row, 1, k0 + k, col0, cols);
            for (int j = cols; j < nr; j++) row[j] = 0f;
        }
    }

    public void PackA(float* dst, int mr, int row0, int rows, int k0, int kc)
    {
        for (int r = 0; r < rows; r++) GatherRow(dst + r, mr, row0 + r, k0, kc);
        for (int r = rows; r < mr; r++)
            for (int k = 0; k < kc; k++) dst[k * mr + r] = 0f;
    }

    /// <summary>Writes patch row <paramref name="patchRow"/> for output pixels pix0..pix0+count-1, with stride <paramref name="dstStride"/>.</summary>
    private void GatherRow(float* dst, int dstStride, int patchRow, int pix0, int count)
    {
        int kk = d.K * d.K;
        int ci = patchRow / kk, rem = patchRow - ci * kk;
        int kh = rem / d.K, kw = rem - kh * d.K;
        float* plane = image + (long)ci * d.H * d.W;
        int i = 0, pix = pix0;
        while (i < count)
        {
            int oh = pix / d.Wo, ow = pix - oh * d.Wo;
            int seg = Math.Min(count - i, d.Wo - ow);
            int ih = oh * d.Stride - d.Pad + kh;
            float* o = dst + (long)i * dstStride;
            if ((uint)ih >= (uint)d.H)
            {
                for (int t = 0; t < seg; t++) o[t * dstStride] = 0f;
            }
            else if (d.Stride == 1 && dstStride == 1)
            {
                // iw = ow + t - pad + kw runs over a contiguous input row: copy the part inside it.
                float* src = plane + (long)ih * d.W;
                int iw0 = ow - d.Pad + kw;
                int lo = Math.Clamp(-iw0, 0, seg), hi = Math.Clamp(d.W - iw0, lo, seg);
                for (int t = 0; t < lo; t++) o[t] = 0f;
                Buffer.MemoryCopy(src + iw0 + lo, o + lo, (hi - lo) * sizeof(float), (hi - lo) * sizeof(float));
                for (int t = hi; t < seg; t++) o[t] = 0f;
            }
            else
            {
                float* src = plane + (long)ih * d.W;
                int iw = ow * d.Stride - d.Pad + kw;
                for (int t = 0; t < seg; t++, iw += d.Stride)
                    o[t * dstStride] = (uint)iw < (uint)d.W ? src[iw] : 0f;
            }
            i += seg;
            pix += seg;
        }
    }
}
