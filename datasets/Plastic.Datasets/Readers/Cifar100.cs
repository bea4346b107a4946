namespace Plastic.Datasets.Readers;

/// <summary>
/// CIFAR-100's binary version: train.bin (50,000 records) and test.bin (10,000), each record 3074 bytes: the
/// coarse label (0-19, the 20 superclasses), the fine label (0-99), then the 32x32 red, green and blue
/// planes, row-major. "cifar100" reads the fine labels, "cifar100-coarse" the coarse ones.
/// </summary>
public static class Cifar100
{
    public const int RecordBytes = 2 + 3 * 32 * 32;
    public const string Folder = "cifar-100-binary";
    public const string TrainFile = "train.bin", TestFile = "test.bin";
    public const string Fine = "cifar100", Coarse = "cifar100-coarse";

    /// <summary>The split file's images with the fine (100 classes) or coarse (20) labels.</summary>
    public static LabelledImages Read(string path, bool coarse)
    {
        var (bytes, count) = BinaryRecords.Read(path, RecordBytes, "CIFAR-100", "the official train.bin is 153,700,000 bytes, test.bin 30,740,000");
        var labels = new byte[count];
        var pixels = new byte[count * (RecordBytes - 2)];
        for (int i = 0; i < count; i++)
        {
            long offset = (long)i * RecordBytes;
            byte coarseLabel = bytes[offset], fineLabel = bytes[offset + 1];
            if (coarseLabel > 19) throw new InvalidDataException($"{path}: record {i} (offset {offset}) has coarse label {coarseLabel}; expected 0 to 19.");
            if (fineLabel > 99) throw new InvalidDataException($"{path}: record {i} (offset {offset + 1}) has fine label {fineLabel}; expected 0 to 99.");
            labels[i] = coarse ? coarseLabel : fineLabel;
            Buffer.BlockCopy(bytes, (int)offset + 2, pixels, i * (RecordBytes - 2), RecordBytes - 2);
        }
        return new LabelledImages(path, pixels, labels, 3, 32, 32, coarse ? 20 : 100);
    }

    public static LabelledImages ReadSplit(string root, bool train, bool coarse) =>
        Read(Path.Combine(root, Folder, train ? TrainFile : TestFile), coarse);
}
