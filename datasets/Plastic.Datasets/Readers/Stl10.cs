namespace Plastic.Datasets.Readers;

/// <summary>
/// STL-10's binary version: X files are images of 3 x 96 x 96 bytes, each colour plane stored column by
/// column (so it is transposed here to row-major); y files are one byte per image, labels 1 to 10
/// (returned as 0 to 9). The unlabelled split (unlabeled_X.bin, 100,000 images, 2.76 GB) has no y file.
/// </summary>
public static class Stl10
{
    public const string Folder = "stl10_binary";
    public const string Unlabeled = "unlabeled";
    private const int Side = 96, ImageBytes = 3 * Side * Side;
    // Whole images per pixel block, under 1 GiB (a .NET array stops short of 2 GiB).
    private const int ImagesPerBlock = (1 << 30) / ImageBytes;

    public static LabelledImages Read(string root, string split)
    {
        string x = Images(root, split), y = Path.Combine(root, Folder, $"{split}_y.bin");
        int count = Count(root, split);
        var blocks = ReadTransposed(x, count);
        if (split == Unlabeled) return LabelledImages.Unlabelled(x, blocks, 3, Side, Side, 10);
        if (!File.Exists(y)) throw new FileNotFoundException($"stl10: no {split}_y.bin under {Path.Combine(root, Folder)} for {x}.", y);
        var raw = File.ReadAllBytes(y);
        if (raw.Length != count) throw new InvalidDataException($"{y}: {raw.Length} labels for the {count} images of {x}.");
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            if (raw[i] < 1 || raw[i] > 10) throw new InvalidDataException($"{y}: record {i} (offset {i}) has label {raw[i]}; expected 1 to 10.");
            labels[i] = (byte)(raw[i] - 1);
        }
        return new LabelledImages(x, blocks, labels, 3, Side, Side, 10, hasLabels: true);
    }

    /// <summary>The images in a split's X file, from its size (the file is not read), checked to be a whole number.</summary>
    public static int Count(string root, string split)
    {
        string x = Images(root, split);
        if (!File.Exists(x))
            throw new FileNotFoundException(split == Unlabeled
                ? $"stl10: no {split}_X.bin under {Path.Combine(root, Folder)} (self-supervised training reads STL-10's 100,000 unlabelled images, PAPER.md 4.2; they are in stl10_binary.tar.gz with the labelled splits)."
                : $"stl10: no {split}_X.bin under {Path.Combine(root, Folder)}.", x);
        long length = new FileInfo(x).Length;
        if (length == 0 || length % ImageBytes != 0)
            throw new InvalidDataException($"{x}: {length} bytes is not a whole number of {ImageBytes}-byte images; the last one would start at offset {length / ImageBytes * ImageBytes}.");
        return checked((int)(length / ImageBytes));
    }

    private static string Images(string root, string split) => Path.Combine(root, Folder, $"{split}_X.bin");

    /// <summary>The images of <paramref name="path"/>, read one at a time and transposed into row-major planes.</summary>
    private static List<byte[]> ReadTransposed(string path, int count)
    {
        var blocks = new List<byte[]>();
        var stored = new byte[ImageBytes];
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        for (int first = 0; first < count; first += ImagesPerBlock)
        {
            int n = Math.Min(ImagesPerBlock, count - first);
            var block = new byte[n * ImageBytes];
            for (int i = 0; i < n; i++)
            {
                file.ReadExactly(stored);
                for (int c = 0; c < 3; c++)
                {
                    int plane = (i * 3 + c) * Side * Side, from = c * Side * Side;
                    for (int column = 0; column < Side; column++)
                        for (int row = 0; row < Side; row++)
                            block[plane + row * Side + column] = stored[from + column * Side + row];
                }
            }
            blocks.Add(block);
        }
        return blocks;
    }
}
