namespace Plastic.Compute.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>Copies of at least this many floats are shared by the threads; below, one thread copies faster than a sync.</summary>
    private const int ParallelCopyFloats = 1 << 18;

    /// <summary>
    /// A message's megabytes copied on every thread: on one, the other cores idled through each message of the backprop
    /// graph (downloads and uploads were 3 % of its samples, 2026-12-05). Each range is copied once: the result is the copy.
    /// </summary>
    private unsafe void CopyFloats(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.Length < ParallelCopyFloats || _parallel.Threads == 1)
        {
            source.CopyTo(destination);
            return;
        }
        fixed (float* from = source, to = destination)
        {
            nint s = (nint)from, d = (nint)to;
            _parallel.ForRanges(source.Length, 1 << 14, (start, end) =>
                new ReadOnlySpan<float>((float*)s + start, end - start).CopyTo(new Span<float>((float*)d + start, end - start)));
        }
    }
}
