using System.Buffers;

namespace Plastic.Datasets.Pipeline;

/// <summary>
/// One minibatch of two augmented views: Views is [2N, C, S, S] (view 1 of every image, then view 2)
/// in a pooled buffer, with the images' labels (for probes) and their indices in the data set. The
/// consumer disposes it, which returns the buffer to the pool.
/// </summary>
public sealed class TwoViewBatch : IDisposable
{
    private float[]? _buffer;

    internal TwoViewBatch(int epoch, int index, float[] buffer, int[] dims, byte[] labels, int[] images)
    {
        Epoch = epoch;
        Index = index;
        _buffer = buffer;
        Dims = dims;
        Labels = labels;
        Images = images;
    }

    public int Epoch { get; }
    public int Index { get; }
    public int[] Dims { get; }
    public byte[] Labels { get; }
    public int[] Images { get; }
    public int Length => Dims.Aggregate(1, (a, b) => a * b);
    public ReadOnlySpan<float> Views => (_buffer ?? throw new ObjectDisposedException(nameof(TwoViewBatch))).AsSpan(0, Length);

    public void Dispose()
    {
        if (_buffer is null) return;
        ArrayPool<float>.Shared.Return(_buffer);
        _buffer = null;
    }
}
