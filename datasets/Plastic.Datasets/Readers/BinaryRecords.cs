namespace Plastic.Datasets.Readers;

/// <summary>A file of fixed-size records and nothing else (the CIFAR binary versions): all its bytes, once its length is checked.</summary>
internal static class BinaryRecords
{
    /// <param name="official">The official files' sizes, for the message when the length is wrong.</param>
    public static (byte[] Bytes, int Count) Read(string path, int recordBytes, string what, string official)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such {what} file.", path);
        long length = new FileInfo(path).Length;
        if (length == 0 || length % recordBytes != 0)
            throw new InvalidDataException($"{path}: {length} bytes is not a whole number of {recordBytes}-byte records ({official}); the last record would start at offset {length / recordBytes * recordBytes}.");
        return (File.ReadAllBytes(path), (int)(length / recordBytes));
    }
}
