using Plastic.Compute.Cpu.Gemm;

namespace Plastic.Compute.Cpu.Winograd;

/// <summary>
/// Grow-only working memory per thread, kept between calls: fresh pages for tens of MiB of
/// transformed tiles would cost more in page faults than the transforms themselves. New memory is
/// zeroed, so it never holds a NaN pattern that a discarded product could read. Separate slots,
/// because a caller's shared memory stays in use while its own thread also runs one of the workers.
/// </summary>
internal static unsafe class ThreadScratch
{
    [ThreadStatic] private static ScratchBlock? t_shared;
    [ThreadStatic] private static ScratchBlock? t_private;
    [ThreadStatic] private static ScratchBlock? t_padded;

    /// <summary>Memory a caller hands to the workers it starts (each writes its own part).</summary>
    public static float* Shared(long floats) => Get(ref t_shared, floats);

    /// <summary>Memory a worker uses alone: its transformed tiles, products and transform rows.</summary>
    public static float* Private(long floats) => Get(ref t_private, floats);

    /// <summary>A caller's zero-bordered copy of a convolution's input, read by its GEMM workers (<see cref="Gemm.PaddedImages"/>).</summary>
    public static float* Padded(long floats) => Get(ref t_padded, floats);

    private static float* Get(ref ScratchBlock? slot, long floats)
    {
        if (slot is null || slot.Floats < floats)
        {
            slot?.Dispose();
            slot = new ScratchBlock(checked((int)floats));
            new Span<float>(slot.Pointer, slot.Floats).Clear();
        }
        return slot.Pointer;
    }
}
