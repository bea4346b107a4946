using System.Diagnostics;

namespace Plastic.Sim.Distributed.Lanes;

/// <summary>
/// The sender's side of shared-memory lanes: a ring of tensor blocks in one <see cref="SharedSegment"/>.
/// A tensor sent to a process on this host is written into the next free block; its receiver copies it from
/// there into its own tensor and frees the block (<see cref="SharedBlock"/>), with no socket, no thread of
/// ours woken and no copy in the kernel. Blocks are given back in the order they were placed, so space is
/// one moving window; a block read out of order waits for the older ones, and one never read (its message was
/// lost with its receiver) is given up after <see cref="LaneServer.HoldFor"/>. When the ring has no room, the
/// caller sends the tensor over TCP as before (TryPlace returns false).
/// </summary>
internal sealed class SharedArena(SharedSegment segment) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Queue<Placement> _placed = new(); // in ring order, oldest first
    private readonly Dictionary<long, SharedBlock> _byNumber = [];
    private Placement? _newest;

    public SharedSegment Segment { get; } = segment;

    /// <summary>
    /// An arena of <paramref name="bytes"/> in a new segment; null where this host has no shared memory or it
    /// cannot be made (full, or not writable): tensors then go over TCP, as they would to another host.
    /// </summary>
    public static SharedArena? TryCreate(long bytes)
    {
        if (!SharedSegment.Available) return null;
        try
        {
            return new SharedArena(SharedSegment.Create(bytes));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>How many placed tensors wait for their receivers (for the tests).</summary>
    public int Unread
    {
        get { lock (_gate) return _placed.Count(p => !p.Block.IsFree); }
    }

    /// <summary>
    /// Takes a free block of <paramref name="bytes"/> bytes for tensor <paramref name="number"/>, has
    /// <paramref name="write"/> fill it and holds it for its receiver; false when the ring has no room for it now.
    /// A writer that throws leaves the block free again.
    /// </summary>
    public bool TryPlace<TState>(long number, int bytes, Action<SharedBlock, TState> write, TState state, out SharedBlock block) =>
        TryPlace(number, bytes, write, state, out block, Stopwatch.GetTimestamp());

    /// <summary>As <see cref="TryPlace{TState}(long, int, Action{SharedBlock, TState}, TState, out SharedBlock)"/> at the time <paramref name="now"/> (Stopwatch ticks).</summary>
    internal bool TryPlace<TState>(long number, int bytes, Action<SharedBlock, TState> write, TState state, out SharedBlock block, long now)
    {
        if (!TryReserve(number, bytes, out block, now)) return false;
        try
        {
            write(block, state);
        }
        catch
        {
            block.Release();
            throw;
        }
        block.Hold();
        return true;
    }

    /// <summary>For the tests: places a copy of <paramref name="bytes"/>, at <paramref name="now"/> when given (for the tests of giving up).</summary>
    internal bool TryPlace(long number, byte[] bytes, out SharedBlock block, long? now = null) =>
        TryPlace(number, bytes.Length, static (to, from) => from.CopyTo(to.Data), bytes, out block, now ?? Stopwatch.GetTimestamp());

    private bool TryReserve(long number, int bytes, out SharedBlock block, long now)
    {
        long size = SharedBlock.HeaderBytes + (bytes + SharedBlock.HeaderBytes - 1L) / SharedBlock.HeaderBytes * SharedBlock.HeaderBytes;
        lock (_gate)
        {
            GiveBackRead(now);
            if (Where(size) is not { } offset)
            {
                block = default;
                return false;
            }
            block = new SharedBlock(Segment, offset, number, bytes);
            block.Reserve(); // under the lock: a free tag here would let the next caller give the space back
            var placed = new Placement(block, size, now);
            _placed.Enqueue(placed);
            _newest = placed;
            _byNumber[number] = block;
        }
        return true;
    }

    /// <summary>
    /// For a receiver on another host that asks over TCP: claims tensor <paramref name="number"/> and hands its
    /// bytes to <paramref name="write"/>; false when it is not in the ring (or not held any more).
    /// </summary>
    public bool TryServe<TState>(long number, System.Buffers.ReadOnlySpanAction<byte, TState> write, TState state)
    {
        SharedBlock block;
        lock (_gate)
        {
            if (!_byNumber.TryGetValue(number, out block) || !block.TryClaim()) return false;
        }
        try
        {
            write(block.Data, state); // claimed: the ring cannot give this space to another tensor meanwhile
        }
        finally
        {
            block.Release();
        }
        return true;
    }

    /// <summary>The offset of a free run of <paramref name="size"/> bytes after the newest block, or null.</summary>
    private long? Where(long size)
    {
        if (_newest is null) return size <= Segment.Capacity ? 0 : null;
        long oldest = _placed.Peek().Block.Offset;
        long end = _newest.Block.Offset + _newest.Size;
        bool wrapped = _newest.Block.Offset < oldest;
        if (wrapped) return end + size <= oldest ? end : null;
        if (end + size <= Segment.Capacity) return end;
        return size <= oldest ? 0 : null;
    }

    /// <summary>Gives back, oldest first, the blocks read by their receivers and those held past the limit.</summary>
    private void GiveBackRead(long now)
    {
        long limit = (long)(LaneServer.HoldFor.TotalSeconds * Stopwatch.Frequency);
        while (_placed.TryPeek(out var oldest))
        {
            if (!oldest.Block.IsFree && !(now - oldest.PlacedAt > limit && oldest.Block.TryGiveUp())) break;
            _placed.Dequeue();
            _byNumber.Remove(oldest.Block.Number);
        }
        if (_placed.Count == 0) _newest = null;
    }

    public void Dispose() => Segment.Dispose();

    private sealed record Placement(SharedBlock Block, long Size, long PlacedAt);
}
