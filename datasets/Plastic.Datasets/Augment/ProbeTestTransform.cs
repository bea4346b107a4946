using Plastic.Datasets.Readers;

namespace Plastic.Datasets.Augment;

/// <summary>
/// The transform of the linear probe's test images (PAPER.md 4.4), before normalisation: STL-10 uses
/// Resize(105) then CenterCrop(96); CIFAR-10 and Tiny ImageNet use CenterCrop(size) on images of that
/// size, the identity, and so do the MNIST sets.
/// </summary>
public static class ProbeTestTransform
{
    public static LabelledImages Apply(string dataset, LabelledImages test) =>
        dataset == "stl10" ? ResizeCenterCrop(test, 105, 96) : test;

    /// <summary>Every image of <paramref name="images"/> through <see cref="ResizeCenterCrop(ReadOnlySpan{byte}, int, int, int, int, int, Span{byte})"/>.</summary>
    public static LabelledImages ResizeCenterCrop(LabelledImages images, int resize, int crop)
    {
        int size = images.Channels * crop * crop;
        var pixels = new byte[(long)images.Count * size];
        for (int i = 0; i < images.Count; i++)
            ResizeCenterCrop(images.Image(i), images.Channels, images.Height, images.Width, resize, crop, pixels.AsSpan(i * size, size));
        return new LabelledImages($"{images.Source} (Resize({resize}), CenterCrop({crop}))", [pixels], images.Labels, images.Channels, crop, crop, images.Classes, images.HasLabels);
    }

    /// <summary>
    /// torchvision's Resize(resize) then CenterCrop(crop) of one planar [C, H, W] byte image into
    /// [C, crop, crop]. Resize scales the shorter side to <paramref name="resize"/> and the longer one to
    /// int(resize * long / short). The interpolation is bilinear with align_corners=False: output pixel d
    /// samples the input at (d + 0.5) * in / out - 0.5, clamped to the first and last pixel, and mixes the
    /// two neighbours linearly; antialias is off, as in torchvision's tensor Resize. On upscaling (STL-10's
    /// 96 -> 105) antialias would change nothing and PIL's bilinear filter gives the same weights. The
    /// result is rounded to the nearest byte (ties to even, as torch.round), as Resize does on a uint8
    /// image. CenterCrop starts at int(round((resized - crop) / 2)) on each axis, Python's round (ties to
    /// even): 4 for 105 -> 96.
    /// </summary>
    public static void ResizeCenterCrop(ReadOnlySpan<byte> image, int channels, int height, int width, int resize, int crop, Span<byte> output)
    {
        if (image.Length != channels * height * width) throw new ArgumentException($"An image of {channels}x{height}x{width} has {channels * height * width} bytes, not {image.Length}.");
        if (output.Length != channels * crop * crop) throw new ArgumentException($"A {channels}x{crop}x{crop} crop has {channels * crop * crop} bytes, not {output.Length}.");
        bool tall = height > width;
        int shortSide = tall ? width : height, longSide = tall ? height : width;
        int resizedLong = (int)((long)resize * longSide / shortSide);
        int outHeight = tall ? resizedLong : resize, outWidth = tall ? resize : resizedLong;
        if (crop > outHeight || crop > outWidth)
            throw new ArgumentException($"CenterCrop({crop}) of a {outHeight}x{outWidth} image: the crop must fit (torchvision would pad).");
        int top = (int)Math.Round((outHeight - crop) / 2.0, MidpointRounding.ToEven), left = (int)Math.Round((outWidth - crop) / 2.0, MidpointRounding.ToEven);
        var (y0, y1, fy) = Taps(height, outHeight, top, crop);
        var (x0, x1, fx) = Taps(width, outWidth, left, crop);
        for (int c = 0; c < channels; c++)
        {
            var plane = image.Slice(c * height * width, height * width);
            var target = output.Slice(c * crop * crop, crop * crop);
            for (int r = 0; r < crop; r++)
                for (int col = 0; col < crop; col++)
                {
                    double upper = (1 - fx[col]) * plane[y0[r] * width + x0[col]] + fx[col] * plane[y0[r] * width + x1[col]];
                    double lower = (1 - fx[col]) * plane[y1[r] * width + x0[col]] + fx[col] * plane[y1[r] * width + x1[col]];
                    double v = (1 - fy[r]) * upper + fy[r] * lower;
                    target[r * crop + col] = (byte)Math.Clamp(Math.Round(v, MidpointRounding.ToEven), 0, 255);
                }
        }
    }

    /// <summary>For the outputs first .. first + count - 1 of an axis resized from inSize to outSize: the two input taps and the weight of the second.</summary>
    private static (int[] Low, int[] High, double[] Weight) Taps(int inSize, int outSize, int first, int count)
    {
        var (low, high, weight) = (new int[count], new int[count], new double[count]);
        double scale = (double)inSize / outSize;
        for (int i = 0; i < count; i++)
        {
            double source = Math.Max(0, (first + i + 0.5) * scale - 0.5);
            int j = Math.Min((int)Math.Floor(source), inSize - 1);
            low[i] = j;
            high[i] = Math.Min(j + 1, inSize - 1);
            weight[i] = source - j;
        }
        return (low, high, weight);
    }
}
