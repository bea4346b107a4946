using ILGPU;
using ILGPU.Runtime;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// Accelerator buffers kept for reuse, by element type and length, one pool per device. On CUDA, freeing
/// device memory (cuMemFree) waits for everything queued on the device, and allocating costs tens of
/// microseconds: a training step allocates and frees every activation, gradient and convolution scratch
/// buffer, so freeing them for real made each step wait on the GPU dozens of times (the first GPU run,
/// 2026-12-04: 46 ms a step for the 1/8-width VGG-6). The shapes repeat from step to step, so a buffer of
/// the same length is almost always there to reuse. Reuse is safe without waiting: every kernel, copy and
/// cuBLAS call of the device is queued on its one stream, so the work that used a buffer before it came
/// back runs before the work of its next owner. Used only under the device's gate. When the device is out
/// of memory, the kept buffers go back to it and the allocation is tried again.
/// </summary>
internal sealed class IlgpuBufferPool(Accelerator accelerator)
{
    private readonly Dictionary<(Type Element, long Length), Stack<MemoryBuffer>> _kept = [];

    /// <summary>Bytes held for reuse (not in any tensor).</summary>
    public long KeptBytes { get; private set; }

    /// <summary>A buffer of <paramref name="length"/> elements: a kept one if there is one, else a new one. Its contents are undefined.</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Rent<T>(long length) where T : unmanaged
    {
        if (_kept.TryGetValue((typeof(T), length), out var stack) && stack.TryPop(out var kept))
        {
            KeptBytes -= kept.LengthInBytes;
            return (MemoryBuffer1D<T, Stride1D.Dense>)kept;
        }
        try
        {
            return accelerator.Allocate1D<T>(length);
        }
        catch (Exception e) when (e is AcceleratorException or OutOfMemoryException && KeptBytes > 0)
        {
            Drain();
            return accelerator.Allocate1D<T>(length);
        }
    }

    /// <summary>Scratch for one call under the gate; disposing it gives the buffer back.</summary>
    public Scratch<T> Scratch<T>(long length) where T : unmanaged => new(this, Rent<T>(length));

    /// <summary>Keeps a buffer whose owner is done with it.</summary>
    public void Return<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer) where T : unmanaged
    {
        var key = (typeof(T), buffer.Length);
        if (!_kept.TryGetValue(key, out var stack)) _kept[key] = stack = new Stack<MemoryBuffer>();
        stack.Push(buffer);
        KeptBytes += buffer.LengthInBytes;
    }

    /// <summary>Frees every kept buffer.</summary>
    public void Drain()
    {
        foreach (var stack in _kept.Values)
            while (stack.TryPop(out var buffer)) buffer.Dispose();
        _kept.Clear();
        KeptBytes = 0;
    }
}

/// <summary>A pooled buffer lent for one call; disposing it returns the buffer to its pool.</summary>
internal readonly struct Scratch<T>(IlgpuBufferPool pool, MemoryBuffer1D<T, Stride1D.Dense> buffer) : IDisposable where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> View => buffer.View;
    public long Length => buffer.Length;
    public void Dispose() => pool.Return(buffer);
}
