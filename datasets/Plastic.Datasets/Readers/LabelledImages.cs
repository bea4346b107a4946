namespace Plastic.Datasets.Readers;

/// <summary>
/// A split of an image set held as bytes: images [Count, Channels, Height, Width] (planar, values 0-255)
/// and one label per image, or no labels (STL-10's unlabelled split: HasLabels is false and every label
/// reads 0). Readers validate as they load; nothing here can be half valid.
/// </summary>
public sealed class LabelledImages
{
    // A .NET array holds at most 2^31 - 1 bytes and STL-10's unlabelled split is 2.76 GB, so the pixels
    // live in blocks of whole images; _firstImage[b] is the index of block b's first image. A block is
    // an array or a view of a memory-mapped cache (an image folder's decoded images).
    private readonly ReadOnlyMemory<byte>[] _blocks;
    private readonly int[] _firstImage;

    public LabelledImages(string source, byte[] pixels, byte[] labels, int channels, int height, int width, int classes)
        : this(source, [pixels], labels, channels, height, width, classes, hasLabels: true)
    {
    }

    public LabelledImages(string source, IReadOnlyList<byte[]> blocks, byte[] labels, int channels, int height, int width, int classes, bool hasLabels)
        : this(source, blocks.Select(b => (ReadOnlyMemory<byte>)b).ToArray(), labels, channels, height, width, classes, hasLabels)
    {
    }

    public LabelledImages(string source, IReadOnlyList<ReadOnlyMemory<byte>> blocks, byte[] labels, int channels, int height, int width, int classes, bool hasLabels)
    {
        int size = channels * height * width;
        long total = blocks.Sum(b => (long)b.Length);
        if (total != (long)labels.Length * size)
            throw new InvalidDataException($"{source}: {total} pixel bytes for {labels.Length} images of {channels}x{height}x{width}.");
        for (int b = 0; b < blocks.Count; b++)
            if (blocks[b].Length % size != 0)
                throw new InvalidDataException($"{source}: pixel block {b} has {blocks[b].Length} bytes, not a whole number of {channels}x{height}x{width} images.");
        for (int i = 0; i < labels.Length; i++)
            if (hasLabels ? labels[i] >= classes : labels[i] != 0)
                throw new InvalidDataException($"{source}: record {i} has label {labels[i]}; expected {(hasLabels ? $"0 to {classes - 1}" : "0 (no labels)")}.");
        _blocks = [.. blocks.Where(b => b.Length > 0)];
        _firstImage = new int[_blocks.Length];
        for (int b = 1; b < _blocks.Length; b++) _firstImage[b] = _firstImage[b - 1] + _blocks[b - 1].Length / size;
        Source = source;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        Classes = classes;
        HasLabels = hasLabels;
    }

    /// <summary>A split without labels (its images only): every label reads 0 and ClassCounts refuses.</summary>
    public static LabelledImages Unlabelled(string source, IReadOnlyList<byte[]> blocks, int channels, int height, int width, int classes) =>
        Unlabelled(source, blocks.Select(b => (ReadOnlyMemory<byte>)b).ToArray(), channels, height, width, classes);

    /// <summary>A split without labels whose pixels are memory blocks (arrays or mapped views).</summary>
    public static LabelledImages Unlabelled(string source, IReadOnlyList<ReadOnlyMemory<byte>> blocks, int channels, int height, int width, int classes) =>
        new(source, blocks, new byte[checked((int)(blocks.Sum(b => (long)b.Length) / (channels * height * width)))], channels, height, width, classes, hasLabels: false);

    public string Source { get; }
    public byte[] Labels { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int Classes { get; }
    public bool HasLabels { get; }
    public int Count => Labels.Length;
    public int ImageSize => Channels * Height * Width;

    public ReadOnlySpan<byte> Image(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"{Source} has {Count} images.");
        int b = 0;
        if (_blocks.Length > 1)
        {
            b = Array.BinarySearch(_firstImage, index);
            if (b < 0) b = ~b - 1;
        }
        return _blocks[b].Span.Slice((index - _firstImage[b]) * ImageSize, ImageSize);
    }

    /// <summary>How many images each class has.</summary>
    public int[] ClassCounts()
    {
        if (!HasLabels) throw new InvalidOperationException($"{Source}: an unlabelled split has no classes to count.");
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
        {
            var image = Image(i);
            for (int c = 0; c < Channels; c++)
            {
                long s = 0, q = 0;
                foreach (byte v in image.Slice(c * plane, plane)) { s += v; q += v * v; }
                sum[c] += s;
                squares[c] += q;
            }
        }
        double n = (double)Count * plane;
        var mean = sum.Select(s => s / n / 255).ToArray();
        var std = squares.Select((q, c) => Math.Sqrt(Math.Max(0, q / n / (255.0 * 255) - mean[c] * mean[c]))).ToArray();
        return (mean, std);
    }

    /// <summary>
    /// Several splits as one, in order (CIFAR-10's five training batches; STL-10's unlabelled and train
    /// splits): the pixel blocks are shared, not copied. Labelled only when every part is.
    /// </summary>
    public static LabelledImages Concatenate(string source, IReadOnlyList<LabelledImages> parts)
    {
        var first = parts[0];
        foreach (var p in parts)
            if (p.Channels != first.Channels || p.Height != first.Height || p.Width != first.Width || p.Classes != first.Classes)
                throw new InvalidDataException($"{source}: {p.Source} holds {p.Channels}x{p.Height}x{p.Width} images of {p.Classes} classes, {first.Source} {first.Channels}x{first.Height}x{first.Width} of {first.Classes}.");
        bool labelled = parts.All(p => p.HasLabels);
        var labels = labelled ? parts.SelectMany(p => p.Labels).ToArray() : new byte[parts.Sum(p => p.Count)];
        return new LabelledImages(source, parts.SelectMany(p => p._blocks).ToArray(), labels, first.Channels, first.Height, first.Width, first.Classes, labelled);
    }
}
