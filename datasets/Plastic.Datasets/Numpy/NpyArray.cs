using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace Plastic.Datasets.Numpy;

/// <summary>A float32 array with its shape (C order), as read from or written to NumPy's .npy format.</summary>
public sealed record NpyArray(int[] Shape, float[] Values)
{
    public static NpyArray Of(float[] values, params int[] shape)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != values.Length)
            throw new ArgumentException($"An array of shape ({string.Join(", ", shape)}) needs {shape.Aggregate(1L, (a, b) => a * b)} values, not {values.Length}.");
        return new NpyArray(shape, values);
    }
}

/// <summary>
/// NumPy's .npy (format 1.0 / 2.0) and .npz (a zip of .npy files) for float32 and float64 arrays in C
/// order, little-endian: what `np.save`, `np.savez` and `np.load` read and write. float64 is read into
/// float32. Anything else (Fortran order, other dtypes, a bad magic) is an error naming the file.
/// </summary>
public static class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static void Write(Stream stream, NpyArray array)
    {
        string shape = array.Shape.Length == 1 ? $"({array.Shape[0]},)" : $"({string.Join(", ", array.Shape)})";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}";
        // Header padded with spaces so that the data starts at a multiple of 64 bytes, ending in a newline.
        int total = Magic.Length + 2 + 2 + dict.Length + 1;
        int padding = (64 - total % 64) % 64;
        string header = dict + new string(' ', padding) + "\n";
        using var w = new BinaryWriter(stream, Encoding.ASCII, leaveOpen: true);
        w.Write(Magic);
        w.Write((byte)1); w.Write((byte)0);
        w.Write((ushort)header.Length);
        w.Write(Encoding.ASCII.GetBytes(header));
        w.Write(MemoryMarshal.AsBytes(array.Values.AsSpan()));
    }

    public static NpyArray Read(Stream stream, string name)
    {
        try { return ReadArray(stream, name); }
        catch (Exception e) when (e is EndOfStreamException or FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            throw new InvalidDataException($"{name}: not a readable .npy array ({e.Message})", e);
        }
    }

    private static NpyArray ReadArray(Stream stream, string name)
    {
        using var r = new BinaryReader(stream, Encoding.ASCII, leaveOpen: true);
        var (descr, shape) = ReadHeader(r, name);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[count];
        switch (descr)
        {
            case "<f4":
                ReadExactly(r, MemoryMarshal.AsBytes(values.AsSpan()), name);
                break;
            case "<f8":
                var doubles = new double[count];
                ReadExactly(r, MemoryMarshal.AsBytes(doubles.AsSpan()), name);
                for (long i = 0; i < count; i++) values[i] = (float)doubles[i];
                break;
            default:
                throw new InvalidDataException($"{name}: dtype '{descr}' is not read; use float32 ('<f4') or float64 ('<f8').");
        }
        return new NpyArray(shape, values);
    }

    /// <summary>
    /// An integer array (int32, int64, uint8 or bool, C order) as int32, with its shape: index files such
    /// as a pairing's negatives. A value outside int32 is an error naming the file and the position.
    /// </summary>
    public static (int[] Shape, int[] Values) ReadIntegersFile(string path)
    {
        using var file = File.OpenRead(path);
        using var r = new BinaryReader(file, Encoding.ASCII, leaveOpen: true);
        var (descr, shape) = ReadHeader(r, path);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var values = new int[count];
        switch (descr)
        {
            case "<i4":
                ReadExactly(r, MemoryMarshal.AsBytes(values.AsSpan()), path);
                break;
            case "<i8":
                var longs = new long[count];
                ReadExactly(r, MemoryMarshal.AsBytes(longs.AsSpan()), path);
                for (long i = 0; i < count; i++)
                    values[i] = longs[i] is >= int.MinValue and <= int.MaxValue ? (int)longs[i] : throw new InvalidDataException($"{path}: value {longs[i]} at position {i} does not fit in int32.");
                break;
            case "|u1" or "|b1":
                var bytes = new byte[count];
                ReadExactly(r, bytes, path);
                for (long i = 0; i < count; i++) values[i] = bytes[i];
                break;
            default:
                throw new InvalidDataException($"{path}: dtype '{descr}' is not an integer array; use int32 ('<i4'), int64, uint8 or bool.");
        }
        return (shape, values);
    }

    private static (string Descr, int[] Shape) ReadHeader(BinaryReader r, string name)
    {
        var magic = r.ReadBytes(6);
        if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{name}: not a .npy array (bad magic at offset 0).");
        int major = r.ReadByte();
        r.ReadByte();
        int headerLength = major == 1 ? r.ReadUInt16() : major is 2 or 3 ? checked((int)r.ReadUInt32()) : throw new InvalidDataException($"{name}: .npy format version {major} is not known.");
        string header = Encoding.ASCII.GetString(r.ReadBytes(headerLength));
        string descr = Field(header, "descr", name).Trim('\'', '"');
        if (Field(header, "fortran_order", name) != "False") throw new InvalidDataException($"{name}: Fortran-ordered arrays are not read; save with np.ascontiguousarray.");
        var shapeText = Field(header, "shape", name).Trim('(', ')');
        int[] shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return (descr, shape);
    }

    public static NpyArray ReadFile(string path)
    {
        using var file = File.OpenRead(path);
        return Read(file, path);
    }

    /// <summary>
    /// The time stamp of every .npz entry: a zip entry stores its write time, so with the clock the same
    /// arrays would give different bytes on every run. 1980-01-01 is the earliest time a zip can hold.
    /// </summary>
    public static readonly DateTimeOffset EntryTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Writes named arrays as an .npz (uncompressed zip of name.npy entries), replacing the file only once it is complete; the same arrays give the same bytes.</summary>
    public static void WriteNpz(string path, IEnumerable<(string Name, NpyArray Array)> arrays)
    {
        string temporary = path + ".partial";
        try
        {
            using (var file = File.Create(temporary))
            using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
                foreach (var (name, array) in arrays)
                {
                    var entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression);
                    entry.LastWriteTime = EntryTime;
                    using var stream = entry.Open();
                    Write(stream, array);
                }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            // A disk that filled up, a folder that went away: no half-written file is left behind.
            File.Delete(temporary);
            throw;
        }
    }

    public static IReadOnlyDictionary<string, NpyArray> ReadNpz(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such .npz file.", path);
        using var zip = OpenZip(path);
        var result = new Dictionary<string, NpyArray>();
        foreach (var entry in zip.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal)))
        {
            string name = $"{path}:{entry.FullName}";
            using var buffer = new MemoryStream();
            try
            {
                using var stream = entry.Open();
                stream.CopyTo(buffer);
            }
            catch (InvalidDataException e) { throw new InvalidDataException($"{name}: a damaged zip entry ({e.Message})", e); }
            buffer.Position = 0;
            result[entry.FullName[..^4]] = Read(buffer, name);
        }
        return result;
    }

    private static ZipArchive OpenZip(string path)
    {
        try { return ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not an .npz (a zip of .npy files): {e.Message}", e); }
    }

    private static string Field(string header, string key, string name)
    {
        int at = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (at < 0) throw new InvalidDataException($"{name}: the .npy header has no '{key}'.");
        int colon = header.IndexOf(':', at);
        int end = key == "shape" ? header.IndexOf(')', colon) + 1 : header.IndexOf(',', colon);
        return header[(colon + 1)..end].Trim();
    }

    private static void ReadExactly(BinaryReader r, Span<byte> target, string name)
    {
        int read = 0;
        while (read < target.Length)
        {
            int n = r.Read(target[read..]);
            if (n == 0) throw new InvalidDataException($"{name}: truncated: {read} of {target.Length} data bytes.");
            read += n;
        }
    }
}
