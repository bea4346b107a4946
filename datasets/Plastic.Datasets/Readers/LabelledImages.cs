namespace Plastic.Datasets.Readers;

/// <summary>
/// A split of a labelled image set held as bytes: images [Count, Channels, Height, Width] (planar,
/// values 0-255) and one label per image. Readers validate as they load; nothing here can be half valid.
/// </summary>
public sealed class LabelledImages
{
    public LabelledImages(string source, byte[] pixels, byte[] labels, int channels, int height, int width, int classes)
    {
        int size = channels * height * width;
        if (pixels.Length != labels.Length * size)
            throw new InvalidDataException($"{source}: {pixels.Length} pixel bytes for {labels.Length} images of {channels}x{height}x{width}.");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] >= classes)
                throw new InvalidDataException($"{source}: record {i} has label {labels[i]}; expected 0 to {classes - 1}.");
        Source = source;
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        Classes = classes;
    }

    public string Source { get; }
    public byte[] Pixels { get; }
    public byte[] Labels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }
    public int Count => Labels.Length;
    public int ImageSize => Channels * Height * Width;

    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * ImageSize, ImageSize);

    /// <summary>How many images each class has.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Classes];
        foreach (byte label in Labels) counts[label]++;
        return counts;
    }

    /// <summary>Per-channel mean and standard deviation of the pixels scaled to [0, 1] (population statistics, in double).</summary>
    public (double[] Mean, double[] Std) ChannelStatistics()
    {
        var sum = new double[Channels];
        var squares = new double[Channels];
        int plane = Height * Width;
        for (int i = 0; i < Count; i++)
            for (int c = 0; c < Channels; c++)
            {
                long s = 0, q = 0;
                foreach (byte v in Pixels.AsSpan((i * Channels + c) * plane, plane)) { s += v; q += v * v; }
                sum[c] += s;
                squares[c] += q;
            }
        double n = (double)Count * plane;
        var mean = sum.Select(s => s / n / 255).ToArray();
        var std = squares.Select((q, c) => Math.Sqrt(Math.Max(0, q / n / (255.0 * 255) - mean[c] * mean[c]))).ToArray();
        return (mean, std);
    }

    /// <summary>Several splits as one (CIFAR-10's five training batches).</summary>
    public static LabelledImages Concatenate(string source, IReadOnlyList<LabelledImages> parts)
    {
        var first = parts[0];
        return new LabelledImages(source, parts.SelectMany(p => p.Pixels).ToArray(), parts.SelectMany(p => p.Labels).ToArray(),
            first.Channels, first.Height, first.Width, first.Classes);
    }
}
