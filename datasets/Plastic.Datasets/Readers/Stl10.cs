namespace Plastic.Datasets.Readers;

/// <summary>
/// STL-10's binary version: X files are images of 3 x 96 x 96 bytes, each colour plane stored column by
/// column (so it is transposed here to row-major); y files are one byte per image, labels 1 to 10
/// (returned as 0 to 9). The unlabelled split has no y file.
/// </summary>
public static class Stl10
{
    public const string Folder = "stl10_binary";
    private const int Side = 96, ImageBytes = 3 * Side * Side;

    public static LabelledImages Read(string root, string split)
    {
        string x = Path.Combine(root, Folder, $"{split}_X.bin"), y = Path.Combine(root, Folder, $"{split}_y.bin");
        if (!File.Exists(x)) throw new FileNotFoundException($"stl10: no {split}_X.bin under {Path.Combine(root, Folder)}.", x);
        long length = new FileInfo(x).Length;
        if (length == 0 || length % ImageBytes != 0)
            throw new InvalidDataException($"{x}: {length} bytes is not a whole number of {ImageBytes}-byte images; the last one would start at offset {length / ImageBytes * ImageBytes}.");
        int count = checked((int)(length / ImageBytes));
        byte[] labels;
        if (split == "unlabeled")
        {
            labels = new byte[count];
        }
        else
        {
            if (!File.Exists(y)) throw new FileNotFoundException($"stl10: no {split}_y.bin under {Path.Combine(root, Folder)} for {x}.", y);
            var raw = File.ReadAllBytes(y);
            if (raw.Length != count) throw new InvalidDataException($"{y}: {raw.Length} labels for the {count} images of {x}.");
            labels = new byte[count];
            for (int i = 0; i < count; i++)
            {
                if (raw[i] < 1 || raw[i] > 10) throw new InvalidDataException($"{y}: record {i} (offset {i}) has label {raw[i]}; expected 1 to 10.");
                labels[i] = (byte)(raw[i] - 1);
            }
        }
        var stored = File.ReadAllBytes(x);
        var pixels = new byte[stored.Length];
        for (int i = 0; i < count; i++)
            for (int c = 0; c < 3; c++)
            {
                int plane = (i * 3 + c) * Side * Side;
                for (int column = 0; column < Side; column++)
                    for (int row = 0; row < Side; row++)
                        pixels[plane + row * Side + column] = stored[plane + column * Side + row];
            }
        return new LabelledImages(x, pixels, labels, 3, Side, Side, 10);
    }
}
