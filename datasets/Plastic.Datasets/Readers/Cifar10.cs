namespace Plastic.Datasets.Readers;

/// <summary>
/// CIFAR-10's binary version: each file is records of 3073 bytes (a label byte 0-9, then the 32x32 red,
/// green and blue planes, row-major) and nothing else; 10,000 records per official file.
/// </summary>
public static class Cifar10
{
    public const int RecordBytes = 1 + 3 * 32 * 32;
    public const string Folder = "cifar-10-batches-bin";
    public static readonly IReadOnlyList<string> TrainFiles = [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")];
    public const string TestFile = "test_batch.bin";

    public static LabelledImages Read(string path)
    {
        var (bytes, count) = BinaryRecords.Read(path, RecordBytes, "CIFAR-10 batch", "an official batch is 30,730,000 bytes");
        var labels = new byte[count];
        var pixels = new byte[count * (RecordBytes - 1)];
        for (int i = 0; i < count; i++)
        {
            labels[i] = bytes[i * RecordBytes];
            if (labels[i] > 9)
                throw new InvalidDataException($"{path}: record {i} (offset {(long)i * RecordBytes}) has label {labels[i]}; expected 0 to 9.");
            Buffer.BlockCopy(bytes, i * RecordBytes + 1, pixels, i * (RecordBytes - 1), RecordBytes - 1);
        }
        return new LabelledImages(path, pixels, labels, 3, 32, 32, 10);
    }

    /// <summary>The training batches present under root/cifar-10-batches-bin (the data root may hold only some of the five).</summary>
    public static LabelledImages ReadTrain(string root, out IReadOnlyList<string> used)
    {
        var present = TrainFiles.Select(f => Path.Combine(root, Folder, f)).Where(File.Exists).ToList();
        if (present.Count == 0) throw new FileNotFoundException($"cifar10: no data_batch_*.bin under {Path.Combine(root, Folder)}.");
        used = present;
        return LabelledImages.Concatenate(Path.Combine(root, Folder), present.Select(Read).ToList());
    }
}
