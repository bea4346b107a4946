namespace Plastic.Sim.Probes;

/// <summary>
/// Feature rows [Count, Width] kept in chunks of whole rows, so a probe's features can exceed .NET's
/// largest array (about 2^31 elements: 100,000 Tiny ImageNet images x 32768 features are 3.3 x 10^9).
/// A column window (<see cref="Columns"/>) shares the chunks: per-layer probes read their slice in place.
/// </summary>
public sealed class FeatureRows
{
    /// <summary>At most 2^24 floats (64 MiB) per chunk: far below the array limit, large enough that a chunk holds hundreds of full-width rows.</summary>
    public const long DefaultChunkFloats = 1L << 24;

    private readonly float[][] _chunks;
    private readonly int _rowsPerChunk, _stride, _first;

    private FeatureRows(float[][] chunks, int rowsPerChunk, int stride, int first, int count, int width)
    {
        _chunks = chunks; _rowsPerChunk = rowsPerChunk; _stride = stride; _first = first;
        Count = count; Width = width;
    }

    public int Count { get; }
    public int Width { get; }
    public int Chunks => _chunks.Length;

    /// <summary>Zeroed rows in chunks of at most <paramref name="chunkFloats"/> floats (at least one row each).</summary>
    public static FeatureRows Allocate(int count, int width, long chunkFloats = DefaultChunkFloats)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        int perChunk = (int)Math.Clamp(chunkFloats / width, 1, Math.Max(1, count));
        var chunks = new float[(count + perChunk - 1) / perChunk][];
        for (int c = 0; c < chunks.Length; c++) chunks[c] = new float[(long)Math.Min(perChunk, count - c * perChunk) * width];
        return new FeatureRows(chunks, perChunk, width, 0, count, width);
    }

    /// <summary>Rows over an existing array [n, width] (one chunk, not copied).</summary>
    public static FeatureRows From(float[] values, int width)
    {
        if (values.Length % width != 0) throw new ArgumentException($"{values.Length} values are not whole rows of {width}.");
        int n = values.Length / width;
        return new FeatureRows([values], Math.Max(1, n), width, 0, n, width);
    }

    public Span<float> Row(int i)
    {
        if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(i), i, $"{Count} rows.");
        return _chunks[i / _rowsPerChunk].AsSpan((i % _rowsPerChunk) * _stride + _first, Width);
    }

    /// <summary>Columns [first, first + count) of every row, sharing this storage.</summary>
    public FeatureRows Columns(int first, int count)
    {
        if (first < 0 || count < 1 || first + count > Width) throw new ArgumentOutOfRangeException(nameof(count), $"Columns {first} + {count} of {Width}.");
        return new FeatureRows(_chunks, _rowsPerChunk, _stride, _first + first, Count, count);
    }

    /// <summary>Rows [first, first + n) copied into one array [n, Width].</summary>
    public float[] Copy(int first, int n)
    {
        var x = new float[(long)n * Width];
        for (int i = 0; i < n; i++) Row(first + i).CopyTo(x.AsSpan(i * Width, Width));
        return x;
    }

    /// <summary>The rows <paramref name="indices"/> copied into one array [indices.Length, Width].</summary>
    public float[] Gather(ReadOnlySpan<int> indices)
    {
        var x = new float[(long)indices.Length * Width];
        for (int i = 0; i < indices.Length; i++) Row(indices[i]).CopyTo(x.AsSpan(i * Width, Width));
        return x;
    }
}
