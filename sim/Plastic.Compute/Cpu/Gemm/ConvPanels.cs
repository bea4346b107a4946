using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Plastic.Compute.Cpu.Gemm;

/// <summary>
/// Consecutive output pixels of a batch (q = n * Ho * Wo + oh * Wo + ow) that stay in one output row of
/// one image; Offset is the run's position in the range that was split.
/// </summary>
internal readonly record struct PixelRun(int Image, int Oh, int Ow, int Length, int Offset);

/// <summary>
/// The implicit im2col matrix of a batch of NCHW images: row p = (ci, kh, kw), column q = an output
/// pixel of the batch, value x[n, ci, oh*s - pad + kh, ow*s - pad + kw] or 0 in the padding. Panels
/// are packed straight from the images; the matrix itself never exists.
/// </summary>
internal readonly unsafe struct PatchGeometry(float* batch, ConvDims d)
{
    public ConvDims Dims => d;

    /// <summary>Splits pixels q0 .. q0 + count - 1 into runs within one output row; returns how many.</summary>
    public int Split(int q0, int count, Span<PixelRun> runs)
    {
        int n = 0, done = 0, q = q0;
        while (done < count)
        {
            int image = q / d.Pixels, local = q - image * d.Pixels;
            int oh = local / d.Wo, ow = local - oh * d.Wo;
            int length = Math.Min(count - done, d.Wo - ow);
            runs[n++] = new PixelRun(image, oh, ow, length, done);
            done += length;
            q += length;
        }
        return n;
    }

    /// <summary>Writes patch row (ci, kh, kw) over one pixel run to o[0 .. run.Length - 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyRun(float* o, int ci, int kh, int kw, in PixelRun run)
    {
        int ih = run.Oh * d.Stride - d.Pad + kh;
        if ((uint)ih >= (uint)d.H)
        {
            new Span<float>(o, run.Length).Clear();
            return;
        }
        float* src = batch + (((long)run.Image * d.Cin + ci) * d.H + ih) * d.W;
        int iw0 = run.Ow * d.Stride - d.Pad + kw;
        if (d.Stride == 1)
        {
            // iw = iw0 + t runs along one input row: copy the part inside it, zero the padding.
            int lo = Math.Clamp(-iw0, 0, run.Length), hi = Math.Clamp(d.W - iw0, lo, run.Length);
            for (int t = 0; t < lo; t++) o[t] = 0f;
            ShortCopy.Floats(src + iw0 + lo, o + lo, hi - lo);
            for (int t = hi; t < run.Length; t++) o[t] = 0f;
            return;
        }
        for (int t = 0, iw = iw0; t < run.Length; t++, iw += d.Stride)
            o[t] = (uint)iw < (uint)d.W ? src[iw] : 0f;
    }

    /// <summary>Patch rows row0 .. row0 + rows - 1 over pixels q0 .. q0 + count - 1, row r at dst + r * stride.</summary>
    public void CopyRows(float* dst, int stride, int row0, int rows, int q0, int count)
    {
        Span<PixelRun> runs = stackalloc PixelRun[count];
        int runCount = Split(q0, count, runs);
        if (d.Stride == 1 && d.Pad == 0)
        {
            CopyRowsUnbordered(dst, stride, row0, rows, runs[..runCount]);
            return;
        }
        Decode(row0, out int ci, out int kh, out int kw);
        for (int r = 0; r < rows; r++)
        {
            float* row = dst + (long)r * stride;
            for (int i = 0; i < runCount; i++) CopyRun(row + runs[i].Offset, ci, kh, kw, runs[i]);
            Advance(ref ci, ref kh, ref kw);
        }
    }

    /// <summary>
    /// Stride 1 without padding (a batch copied with its border, <see cref="PaddedImages"/>): every patch
    /// row over a run is one contiguous slice of an input row, at an offset that is the run's base plus the
    /// row's (ci, kh, kw) offset; no bounds checks, no zero fills.
    /// </summary>
    private void CopyRowsUnbordered(float* dst, int stride, int row0, int rows, ReadOnlySpan<PixelRun> runs)
    {
        Span<long> runBase = stackalloc long[runs.Length];
        int length = runs[0].Length;
        bool sameLength = true;
        for (int i = 0; i < runs.Length; i++)
        {
            runBase[i] = ((long)runs[i].Image * d.Cin * d.H + runs[i].Oh) * d.W + runs[i].Ow;
            sameLength &= runs[i].Length == length;
        }
        Decode(row0, out int ci, out int kh, out int kw);
        for (int r = 0; r < rows; r++)
        {
            float* row = dst + (long)r * stride;
            long rowOffset = ((long)ci * d.H + kh) * d.W + kw;
            if (sameLength && length == 16 && Vector512.IsHardwareAccelerated)
                for (int i = 0; i < runs.Length; i++) Vector512.Store(Vector512.Load(batch + runBase[i] + rowOffset), row + i * 16);
            else if (sameLength && length == 8)
                for (int i = 0; i < runs.Length; i++) Vector256.Store(Vector256.Load(batch + runBase[i] + rowOffset), row + i * 8);
            else if (sameLength && length == 4)
                for (int i = 0; i < runs.Length; i++) Vector128.Store(Vector128.Load(batch + runBase[i] + rowOffset), row + i * 4);
            else
                for (int i = 0; i < runs.Length; i++) ShortCopy.Floats(batch + runBase[i] + rowOffset, row + runs[i].Offset, runs[i].Length);
            Advance(ref ci, ref kh, ref kw);
        }
    }

    public void Decode(int patchRow, out int ci, out int kh, out int kw)
    {
        int kk = d.K * d.K;
        ci = patchRow / kk;
        int rem = patchRow - ci * kk;
        kh = rem / d.K;
        kw = rem - kh * d.K;
    }

    public void Advance(ref int ci, ref int kh, ref int kw)
    {
        if (++kw < d.K) return;
        kw = 0;
        if (++kh < d.K) return;
        kh = 0;
        ci++;
    }
}

/// <summary>B = the im2col matrix (patch rows x batch pixels): the right operand of the forward convolution, W * cols.</summary>
internal readonly unsafe struct ImagePatches(float* batch, ConvDims d) : IPanelSourceB
{
    public void PackB(float* dst, int nr, int k0, int kc, int col0, int cols)
    {
        new PatchGeometry(batch, d).CopyRows(dst, nr, k0, kc, col0, cols);
        if (cols < nr)
            for (int k = 0; k < kc; k++) new Span<float>(dst + k * nr + cols, nr - cols).Clear();
    }
}

/// <summary>The im2col rows (patch row p over batch pixels q), contiguous along q: the right operand of dW = dY * cols^T.</summary>
internal readonly unsafe struct PatchRows(float* batch, ConvDims d) : IRowSource
{
    public void PackRows(float* dst, int stride, int row0, int rows, int k0, int kc) =>
        new PatchGeometry(batch, d).CopyRows(dst, stride, row0, rows, k0, kc);
}

/// <summary>
/// An [N, C, pixels] tensor read as rows of the matrix [C, N * pixels]: the output gradient as the
/// left operand of the weight gradient, so the sum over the batch is one long K dimension.
/// </summary>
internal readonly unsafe struct ChannelRows(float* batch, int channels, int pixels) : IRowSource
{
    public void PackRows(float* dst, int stride, int row0, int rows, int k0, int kc)
    {
        for (int r = 0; r < rows; r++)
        {
            int channel = row0 + r;
            for (int done = 0, q = k0; done < kc;)
            {
                int image = q / pixels, pix = q - image * pixels;
                int length = Math.Min(kc - done, pixels - pix);
                ShortCopy.Floats(batch + ((long)image * channels + channel) * pixels + pix, dst + (long)r * stride + done, length);
                done += length;
                q += length;
            }
        }
    }
}

/// <summary>
/// A = the convolution kernel flipped in space and transposed in channels, read in place:
/// A[ci, (co, kh, kw)] = W[co, ci, K-1-kh, K-1-kw]. With stride 1 the input gradient is the
/// convolution of dY with this kernel.
/// </summary>
internal readonly unsafe struct FlippedKernel(float* weight, int cin, int k) : IPanelSourceA
{
    public void PackA(float* dst, int mr, int row0, int rows, int k0, int kc)
    {
        if (rows < mr) new Span<float>(dst, mr * kc).Clear();
        int kk = k * k;
        for (int r = 0; r < rows; r++)
        {
            int ci = row0 + r;
            int co = k0 / kk, t = k0 - co * kk;
            for (int p = 0; p < kc; p++)
            {
                dst[p * mr + r] = weight[((long)co * cin + ci) * kk + kk - 1 - t];
                if (++t == kk) { t = 0; co++; }
            }
        }
    }
}

/// <summary>
/// Copies of a few dozen floats, the length of one image row, without a call into memmove: whole
/// vectors from the start, and one last vector that ends at the end (overlapping writes of equal values).
/// </summary>
internal static unsafe class ShortCopy
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Floats(float* src, float* dst, int n)
    {
        if (n >= 16 && Vector512.IsHardwareAccelerated)
        {
            int t = 0;
            for (; t <= n - 16; t += 16) Vector512.Store(Vector512.Load(src + t), dst + t);
            if (t < n) Vector512.Store(Vector512.Load(src + n - 16), dst + n - 16);
        }
        else if (n >= 8)
        {
            int t = 0;
            for (; t <= n - 8; t += 8) Vector256.Store(Vector256.Load(src + t), dst + t);
            if (t < n) Vector256.Store(Vector256.Load(src + n - 8), dst + n - 8);
        }
        else if (n >= 4)
        {
            Vector128.Store(Vector128.Load(src), dst);
            Vector128.Store(Vector128.Load(src + n - 4), dst + n - 4);
        }
        else
        {
            for (int t = 0; t < n; t++) dst[t] = src[t];
        }
    }
}
