namespace Plastic.Datasets.Augment;

/// <summary>
/// Makes one augmented view of an image, deterministically from its random stream: the same (seed,
/// epoch, index, view) always gives the same view, on any thread. Works on planar [C, H, W] floats in
/// [0, 1]; the output is normalised.
/// </summary>
public static class ViewAugmentation
{
    /// <summary>Writes the view of <paramref name="image"/> (bytes, [C, H, W]) into <paramref name="output"/> ([C, Size, Size]).</summary>
    public static void Apply(ReadOnlySpan<byte> image, int channels, int height, int width, AugmentSettings s, AugmentRandom random, Span<float> output)
    {
        int size = s.Size;
        var view = output[..(channels * size * size)];
        ulong counter = 0;
        float Next() => random.Uniform(counter++);

        // RandomResizedCrop: up to 10 tries, else the centre crop of the whole image (as torchvision).
        double area = height * width, top = 0, left = 0, h = height, w = width;
        bool found = false;
        for (int attempt = 0; attempt < 10 && !found; attempt++)
        {
            double target = area * (s.MinScale + (1 - s.MinScale) * Next());
            double aspect = Math.Exp(Math.Log(3.0 / 4) + (Math.Log(4.0 / 3) - Math.Log(3.0 / 4)) * Next());
            double cw = Math.Round(Math.Sqrt(target * aspect)), ch = Math.Round(Math.Sqrt(target / aspect));
            float u1 = Next(), u2 = Next();
            if (cw < 1 || ch < 1 || cw > width || ch > height) continue;
            top = Math.Floor((height - ch + 1) * u1);
            left = Math.Floor((width - cw + 1) * u2);
            h = ch; w = cw; found = true;
        }
        bool flip = Next() < s.FlipProbability;
        for (int c = 0; c < channels; c++)
        {
            var plane = image.Slice(c * height * width, height * width);
            for (int r = 0; r < size; r++)
            {
                double y = top + (r + 0.5) * h / size - 0.5;
                int y0 = (int)Math.Floor(y);
                double fy = y - y0;
                int ya = Math.Clamp(y0, 0, height - 1), yb = Math.Clamp(y0 + 1, 0, height - 1);
                for (int col = 0; col < size; col++)
                {
                    double x = left + (col + 0.5) * w / size - 0.5;
                    int x0 = (int)Math.Floor(x);
                    double fx = x - x0;
                    int xa = Math.Clamp(x0, 0, width - 1), xb = Math.Clamp(x0 + 1, 0, width - 1);
                    double v = (1 - fy) * ((1 - fx) * plane[ya * width + xa] + fx * plane[ya * width + xb])
                             + fy * ((1 - fx) * plane[yb * width + xa] + fx * plane[yb * width + xb]);
                    view[c * size * size + r * size + (flip ? size - 1 - col : col)] = (float)(v / 255);
                }
            }
        }

        if (Next() < s.JitterProbability) ColourJitter(view, channels, size * size, s, Next);
        if (channels == 3 && Next() < s.GrayscaleProbability) Grayscale(view, size * size);
        if (Next() < s.BlurProbability) Blur(view, channels, size, s.BlurKernel, 0.1 + 1.9 * Next());
        for (int c = 0; c < channels; c++)
        {
            float mean = (float)s.Mean[c], inv = (float)(1 / s.Std[c]);
            var p = view.Slice(c * size * size, size * size);
            for (int i = 0; i < p.Length; i++) p[i] = (p[i] - mean) * inv;
        }
    }

    /// <summary>torchvision's ColorJitter: brightness, contrast, saturation and hue in a random order, each factor drawn once.</summary>
    private static void ColourJitter(Span<float> v, int channels, int plane, AugmentSettings s, Func<float> next)
    {
        double Factor() => 1 - s.Jitter + 2 * s.Jitter * next();
        double brightness = Factor(), contrast = Factor(), saturation = Factor(), hue = (2 * next() - 1) * s.Hue;
        int[] order = [0, 1, 2, 3];
        for (int i = 3; i > 0; i--) { int j = (int)(next() * (i + 1)) % (i + 1); (order[i], order[j]) = (order[j], order[i]); }
        foreach (int op in order)
        {
            switch (op)
            {
                case 0:
                    for (int i = 0; i < v.Length; i++) v[i] = Math.Clamp((float)(v[i] * brightness), 0f, 1f);
                    break;
                case 1:
                    double mean = 0;
                    for (int i = 0; i < plane; i++) mean += Gray(v, channels, plane, i);
                    mean /= plane;
                    for (int i = 0; i < v.Length; i++) v[i] = Math.Clamp((float)(contrast * v[i] + (1 - contrast) * mean), 0f, 1f);
                    break;
                case 2 when channels == 3:
                    for (int i = 0; i < plane; i++)
                    {
                        double g = Gray(v, channels, plane, i);
                        for (int c = 0; c < 3; c++) v[c * plane + i] = Math.Clamp((float)(saturation * v[c * plane + i] + (1 - saturation) * g), 0f, 1f);
                    }
                    break;
                case 3 when channels == 3:
                    for (int i = 0; i < plane; i++) ShiftHue(v, plane, i, hue);
                    break;
            }
        }
    }

    private static double Gray(Span<float> v, int channels, int plane, int i) =>
        channels == 3 ? 0.299 * v[i] + 0.587 * v[plane + i] + 0.114 * v[2 * plane + i] : v[i];

    private static void Grayscale(Span<float> v, int plane)
    {
        for (int i = 0; i < plane; i++)
        {
            float g = (float)Gray(v, 3, plane, i);
            v[i] = v[plane + i] = v[2 * plane + i] = g;
        }
    }

    /// <summary>Rotates the hue of one pixel by <paramref name="shift"/> turns (RGB -> HSV -> RGB).</summary>
    private static void ShiftHue(Span<float> v, int plane, int i, double shift)
    {
        double r = v[i], g = v[plane + i], b = v[2 * plane + i];
        double max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), delta = max - min;
        if (delta <= 0) return;
        double hue = max == r ? (g - b) / delta : max == g ? 2 + (b - r) / delta : 4 + (r - g) / delta;
        hue = (hue / 6 + shift) % 1;
        if (hue < 0) hue += 1;
        double saturation = delta / max, value = max;
        double h6 = hue * 6;
        int sector = (int)Math.Floor(h6) % 6;
        double f = h6 - Math.Floor(h6), p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f));
        (r, g, b) = sector switch { 0 => (value, t, p), 1 => (q, value, p), 2 => (p, value, t), 3 => (p, q, value), 4 => (t, p, value), _ => (value, p, q) };
        v[i] = (float)r; v[plane + i] = (float)g; v[2 * plane + i] = (float)b;
    }

    /// <summary>Separable Gaussian blur with reflected borders.</summary>
    private static void Blur(Span<float> v, int channels, int size, int kernel, double sigma)
    {
        int radius = kernel / 2;
        var weights = new float[kernel];
        double total = 0;
        for (int k = 0; k < kernel; k++) { double d = k - radius; weights[k] = (float)Math.Exp(-d * d / (2 * sigma * sigma)); total += weights[k]; }
        for (int k = 0; k < kernel; k++) weights[k] /= (float)total;
        int Reflect(int i) => i < 0 ? -i : i >= size ? 2 * size - 2 - i : i;
        Span<float> temp = stackalloc float[size * size];
        for (int c = 0; c < channels; c++)
        {
            var p = v.Slice(c * size * size, size * size);
            for (int r = 0; r < size; r++)
                for (int x = 0; x < size; x++)
                {
                    float s = 0;
                    for (int k = 0; k < kernel; k++) s += weights[k] * p[r * size + Reflect(x + k - radius)];
                    temp[r * size + x] = s;
                }
            for (int r = 0; r < size; r++)
                for (int x = 0; x < size; x++)
                {
                    float s = 0;
                    for (int k = 0; k < kernel; k++) s += weights[k] * temp[Reflect(r + k - radius) * size + x];
                    p[r * size + x] = s;
                }
        }
    }
}
