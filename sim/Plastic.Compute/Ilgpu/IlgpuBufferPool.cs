using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// Accelerator buffers kept for reuse, by element type and length, one pool per device. On CUDA, freeing
/// device memory (cuMemFree) waits for everything queued on the device, and allocating costs tens of
/// microseconds: a training step allocates and frees every activation, gradient and convolution scratch
/// buffer, so freeing them for real made each step wait on the GPU dozens of times (the first GPU run,
/// 2026-12-04: 46 ms a step for the 1/8-width VGG-6). The shapes repeat from step to step, so a buffer of
/// the same length is almost always there to reuse. Reuse is safe without waiting: every kernel, copy and
/// cuBLAS call of the device is queued on its one stream, so the work that used a buffer before it came
/// back runs before the work of its next owner. Used only under the device's gate. The pool never shrinks
/// by itself: when an allocation of its own finds the device out of memory, the kept buffers go back to the
/// device and the allocation is tried again (an allocation outside it, in cuBLAS or another process, does
/// not drain it). The device thus holds the tensors' peak plus the buffers kept; <see cref="PeakBytes"/>
/// says how much the pool's buffers (lent and kept) came to at most.
/// </summary>
internal sealed class IlgpuBufferPool(Accelerator accelerator)
{
    private readonly Dictionary<(Type Element, long Length), Stack<MemoryBuffer>> _kept = [];

    /// <summary>Bytes held for reuse (not in any tensor).</summary>
    public long KeptBytes { get; private set; }

    /// <summary>Bytes of the pool's buffers, lent or kept, now.</summary>
    public long HeldBytes { get; private set; }

    /// <summary>The most <see cref="HeldBytes"/> has been: the device memory the pool's buffers took at most.</summary>
    public long PeakBytes { get; private set; }

    /// <summary>A buffer of <paramref name="length"/> elements: a kept one if there is one, else a new one. Its contents are undefined.</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Rent<T>(long length) where T : unmanaged
    {
        if (_kept.TryGetValue((typeof(T), length), out var stack) && stack.TryPop(out var kept))
        {
            KeptBytes -= kept.LengthInBytes;
            return (MemoryBuffer1D<T, Stride1D.Dense>)kept;
        }
        MemoryBuffer1D<T, Stride1D.Dense> fresh;
        try
        {
            fresh = accelerator.Allocate1D<T>(length);
        }
        catch (Exception e) when (IsOutOfMemory(e) && KeptBytes > 0)
        {
            Drain();
            fresh = accelerator.Allocate1D<T>(length);
        }
        HeldBytes += fresh.LengthInBytes;
        PeakBytes = Math.Max(PeakBytes, HeldBytes);
        return fresh;
    }

    // Only a real shortage: any other CUDA error (a fault from an earlier kernel, reported here) must surface as it is.
    private static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException || e is CudaException { Error: nameof(CudaError.CUDA_ERROR_OUT_OF_MEMORY) }; // ILGPU keeps the error's enum name

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
            while (stack.TryPop(out var buffer))
            {
                KeptBytes -= buffer.LengthInBytes;
                HeldBytes -= buffer.LengthInBytes;
                buffer.Dispose();
            }
    }
}

/// <summary>A pooled buffer lent for one call; disposing it returns the buffer to its pool.</summary>
internal readonly struct Scratch<T>(IlgpuBufferPool pool, MemoryBuffer1D<T, Stride1D.Dense> buffer) : IDisposable where T : unmanaged
{
    public ArrayView1D<T, Stride1D.Dense> View => buffer.View;
    public long Length => buffer.Length;
    public void Dispose() => pool.Return(buffer);
}
