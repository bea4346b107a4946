namespace Plastic.Sim.Distributed.Lanes;

/// <summary>
/// One tensor's bytes in a <see cref="SharedSegment"/>, as its sender placed them for one receiver. The block
/// starts with a 64-byte header whose first 8 bytes are its tag, the only word two processes both write:
/// the tensor's number while it is held, minus the number while its sender writes it or its receiver reads
/// it, 0 once read (or given up by its sender); the bytes follow the header. Claiming swaps number for minus number atomically,
/// so a tensor is read once, and never after its sender gave its space to another.
/// </summary>
internal readonly unsafe struct SharedBlock(SharedSegment segment, long offset, long number, int bytes)
{
    public const int HeaderBytes = 64;

    public SharedSegment Segment { get; } = segment;
    public long Offset { get; } = offset;
    public long Number { get; } = number;
    public int Bytes { get; } = bytes;

    private ref long Tag => ref *(long*)(Segment.Start + Offset);

    /// <summary>The tensor's bytes (valid while claimed, or while placing them).</summary>
    public Span<byte> Data => new(Segment.Start + Offset + HeaderBytes, Bytes);

    /// <summary>Whether a block of <paramref name="bytes"/> at <paramref name="offset"/> lies inside the segment (a ticket is input).</summary>
    public static bool Fits(SharedSegment segment, long offset, int bytes) =>
        offset >= 0 && offset % HeaderBytes == 0 && bytes >= 0 && offset <= segment.Capacity - HeaderBytes - bytes;

    /// <summary>For the sender, as it takes the space: neither free nor readable until <see cref="Hold"/>.</summary>
    public void Reserve() => Volatile.Write(ref Tag, -Number);

    /// <summary>For the sender, once the bytes are written: the receiver may claim them from now on.</summary>
    public void Hold() => Volatile.Write(ref Tag, Number);

    /// <summary>Takes the tensor for reading; false when it is not held (read already, or given up by its sender).</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref Tag, -Number, Number) == Number;

    /// <summary>After reading: the sender may use the space again.</summary>
    public void Release() => Volatile.Write(ref Tag, 0);

    /// <summary>For the sender: whether the receiver has read it (or nobody holds it).</summary>
    public bool IsFree => Volatile.Read(ref Tag) == 0;

    /// <summary>For the sender, giving up a tensor nobody fetched: false while a receiver is reading it.</summary>
    public bool TryGiveUp() => Interlocked.CompareExchange(ref Tag, 0, Number) == Number || IsFree;
}
