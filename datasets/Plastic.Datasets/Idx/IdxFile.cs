using System.IO.Compression;

namespace Plastic.Datasets.Idx;

/// <summary>An IDX array (MNIST, Fashion-MNIST): its dimensions and its unsigned bytes, row-major.</summary>
public sealed record IdxArray(int[] Dims, byte[] Data)
{
    public int Count => Dims[0];
    public int ItemSize => Dims.Skip(1).Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// Reads IDX files of unsigned bytes (type 0x08), raw or gzip-compressed (by the ".gz" name), streaming
/// only the records asked for. A bad magic number, a type other than bytes, or a file shorter than its
/// header promises is an error naming the file, the byte offset and what was expected.
/// </summary>
public static class IdxFile
{
    public static IdxArray Read(string path, int? maxItems = null)
    {
        try
        {
            return ReadFile(path, maxItems);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            // The decompressor's own complaint names no file.
            throw new InvalidDataException($"{path}: not a readable gzip file ({e.Message})", e);
        }
    }

    private static IdxArray ReadFile(string path, int? maxItems)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such IDX file.", path);
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        var header = ReadExactly(stream, 4, path, 0, "the 4-byte magic number");
        if (header[0] != 0 || header[1] != 0)
            throw new InvalidDataException($"{path}: offset 0: bad IDX magic number {header[0]:x2}{header[1]:x2}{header[2]:x2}{header[3]:x2}; expected 0000 then type and rank (MNIST images: 00000803).");
        if (header[2] != 0x08)
            throw new InvalidDataException($"{path}: offset 2: IDX element type 0x{header[2]:x2}; only unsigned bytes (0x08) are read.");
        int rank = header[3];
        if (rank < 1 || rank > 4) throw new InvalidDataException($"{path}: offset 3: IDX rank {rank}; expected 1 to 4.");
        var dimBytes = ReadExactly(stream, 4 * rank, path, 4, $"{rank} dimension sizes");
        var dims = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            dims[d] = (dimBytes[4 * d] << 24) | (dimBytes[4 * d + 1] << 16) | (dimBytes[4 * d + 2] << 8) | dimBytes[4 * d + 3];
            if (dims[d] <= 0) throw new InvalidDataException($"{path}: offset {4 + 4 * d}: dimension {d} is {dims[d]}; expected a positive size.");
        }
        int items = maxItems is { } m ? Math.Min(m, dims[0]) : dims[0];
        long itemSize = dims.Skip(1).Aggregate(1L, (a, b) => a * b);
        long offset = 4 + 4 * rank;
        var data = ReadExactly(stream, checked((int)(items * itemSize)), path, offset, $"{items} records of {itemSize} bytes");
        dims[0] = items;
        return new IdxArray(dims, data);
    }

    private static byte[] ReadExactly(Stream stream, int count, string path, long offset, string what)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = stream.Read(buffer, read, count - read);
            if (n == 0)
                throw new InvalidDataException($"{path}: truncated at offset {offset + read}: expected {what} ({count} bytes from offset {offset}), got {read}.");
            read += n;
        }
        return buffer;
    }
}
