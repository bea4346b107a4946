using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Plastic.Compute.Cpu.Winograd;

namespace Plastic.Compute.Cpu.Gemm;

/// <summary>
/// A batch copied once with its zero border written out, so that the patch panels of a stride-1
/// convolution are plain copies of image-row runs with no bounds checks or zero fills per run: on the
/// small images of a VGG's deep layers (runs of 4 to 16 pixels) those checks cost more than the copy.
/// The packed values are the same numbers, so results are bit-identical to packing from the unpadded batch.
/// </summary>
internal static unsafe class PaddedImages
{
    /// <summary>Whether padding first pays: stride 1 with a border (with none the batch is used as it is).</summary>
    public static bool Applies(ConvDims d) => d.Stride == 1 && d.Pad > 0;

    /// <summary>The same convolution read from the padded batch: the border is part of the image, padding 0.</summary>
    public static ConvDims Dims(ConvDims d) =>
        d with { H = d.H + 2 * d.Pad, W = d.W + 2 * d.Pad, Pad = 0 };

    /// <summary>Copies the batch into this thread's padding scratch (read by the workers the caller starts next).</summary>
    public static float* Copy(CpuParallel parallel, float* batch, ConvDims d)
    {
        var p = Dims(d);
        float* padded = ThreadScratch.Padded((long)d.N * p.InputImage);
        int planes = d.N * d.Cin, pad = d.Pad;
        nint src = (nint)batch, dst = (nint)padded;
        bool rowsByVector = pad == 1 && Avx512F.IsSupported;
        parallel.ForRanges(planes, 1, (plane0, plane1) =>
        {
            if (rowsByVector)
            {
                CopyPlanesWithBorderOfOne((float*)src, (float*)dst, plane0, plane1, d.H, d.W);
                return;
            }
            for (int plane = plane0; plane < plane1; plane++)
            {
                float* from = (float*)src + (long)plane * d.H * d.W;
                float* to = (float*)dst + (long)plane * p.H * p.W;
                new Span<float>(to, pad * p.W).Clear();
                for (int h = 0; h < d.H; h++)
                {
                    float* row = to + (long)(h + pad) * p.W;
                    new Span<float>(row, pad).Clear();
                    new ReadOnlySpan<float>(from + (long)h * d.W, d.W).CopyTo(new Span<float>(row + pad, d.W));
                    new Span<float>(row + pad + d.W, pad).Clear();
                }
                new Span<float>(to + (long)(pad + d.H) * p.W, pad * p.W).Clear();
            }
        });
        return padded;
    }

    /// <summary>
    /// The copy with a border of one, a row at a time in vector stores: the three span calls a row took before cost more
    /// than the copy on rows of 4 to 16 pixels (a third of a million rows a backprop step at 1/8 width). The same values.
    /// </summary>
    private static void CopyPlanesWithBorderOfOne(float* batch, float* padded, int plane0, int plane1, int h, int w)
    {
        int pw = w + 2;
        var mask = Vector512.GreaterThan(Vector512.Create(w % 16), Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)).AsSingle();
        for (int plane = plane0; plane < plane1; plane++)
        {
            float* from = batch + (long)plane * h * w;
            float* to = padded + (long)plane * (h + 2) * pw;
            new Span<float>(to, pw).Clear();
            for (int y = 0; y < h; y++, from += w)
            {
                float* row = to + (long)(y + 1) * pw;
                row[0] = 0f;
                int x = 0;
                for (; x + 16 <= w; x += 16) Vector512.Load(from + x).Store(row + 1 + x);
                if (x < w) Avx512F.MaskStore(row + 1 + x, mask, Avx512F.MaskLoad(from + x, mask, Vector512<float>.Zero));
                row[w + 1] = 0f;
            }
            new Span<float>(to + (long)(h + 1) * pw, pw).Clear();
        }
    }
}
