using System.Diagnostics;
using System.Runtime.InteropServices;
using Plastic.Compute;
using Plastic.Sim.Distributed;
using Plastic.Sim.Distributed.Lanes;
using Plastic.Sim.Protocol;

namespace Plastic.Tests.Sim;

/// <summary>
/// Shared-memory lanes between processes of one host: a tensor placed in the sender's ring is read bit for bit
/// through a second mapping of the segment (as another process maps it), exactly once; its space is used
/// again only once read, in ring order; a full ring declines instead of overwriting; one never read is given
/// up after the hold limit and cannot be read after that; a receiver that cannot map the segment gets the same
/// bytes over TCP; between two members a large tensor arrives through shared memory, and with shared memory
/// off over TCP. Linux only (/dev/shm); elsewhere these tests have nothing to test and say so.
/// </summary>
[Collection("Cluster")]
public sealed class SharedLaneTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static byte[] Bytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private const string NoSharedMemory = "this host has no /dev/shm shared memory";

    private static SharedArena Arena(long capacity)
    {
        Skip.IfNot(SharedSegment.Available, NoSharedMemory);
        return new SharedArena(SharedSegment.Create(capacity));
    }

    /// <summary>Reads a block as a receiving process does: through its own mapping of the segment, by the ticket's offset and number.</summary>
    private static byte[] Read(SharedSegment view, SharedBlock placed)
    {
        var block = new SharedBlock(view, placed.Offset, placed.Number, placed.Bytes);
        Assert.True(block.TryClaim(), $"tensor {placed.Number} could not be claimed");
        var bytes = block.Data.ToArray();
        block.Release();
        return bytes;
    }

    [SkippableFact]
    public void A_placed_tensor_is_read_bit_for_bit_through_another_mapping_once()
    {
        using var arena = Arena(1 << 20);
        using var view = SharedSegment.TryOpen(arena.Segment.Path) ?? throw new InvalidOperationException("the segment could not be mapped a second time");
        var sent = Bytes(100_003, 1);
        Assert.True(arena.TryPlace(42, sent, out var block));
        Assert.Equal(0, block.Offset % SharedBlock.HeaderBytes);
        Assert.Equal(1, arena.Unread);
        Assert.Equal(sent, Read(view, block));
        Assert.Equal(0, arena.Unread);
        Assert.False(new SharedBlock(view, block.Offset, 42, sent.Length).TryClaim()); // read once
        Assert.False(new SharedBlock(view, block.Offset, 43, sent.Length).TryClaim()); // never by another number
    }

    [SkippableFact]
    public void The_ring_reuses_space_only_once_read_in_order_and_declines_when_full()
    {
        using var arena = Arena(4096);
        using var view = SharedSegment.TryOpen(arena.Segment.Path)!;
        // Blocks of 64 + 960 bytes: four fill the ring.
        var placed = new List<SharedBlock>();
        for (int i = 0; i < 4; i++)
        {
            Assert.True(arena.TryPlace(100 + i, Bytes(960, i), out var block), $"block {i} found no room");
            placed.Add(block);
        }
        Assert.Equal([0L, 1024, 2048, 3072], placed.Select(b => b.Offset));
        Assert.False(arena.TryPlace(200, Bytes(960, 9), out _)); // full: the caller goes over TCP
        // The second is read first: its space still waits for the first's, the oldest.
        Assert.Equal(Bytes(960, 1), Read(view, placed[1]));
        Assert.False(arena.TryPlace(201, Bytes(960, 9), out _));
        Assert.Equal(Bytes(960, 0), Read(view, placed[0]));
        // Both read: the ring wraps to the start, where the two were, and its newer blocks are untouched.
        Assert.True(arena.TryPlace(202, Bytes(1900, 5), out var wrapped));
        Assert.Equal(0, wrapped.Offset);
        Assert.Equal(Bytes(960, 2), Read(view, placed[2]));
        Assert.Equal(Bytes(960, 3), Read(view, placed[3]));
        Assert.Equal(Bytes(1900, 5), Read(view, wrapped));
        Assert.False(arena.TryPlace(203, Bytes(5000, 6), out _)); // larger than the whole ring
    }

    [SkippableFact]
    public void A_tensor_never_read_is_given_up_after_the_hold_limit_and_cannot_be_read_after()
    {
        using var arena = Arena(2048);
        using var view = SharedSegment.TryOpen(arena.Segment.Path)!;
        long start = Stopwatch.GetTimestamp();
        Assert.True(arena.TryPlace(7, Bytes(1900, 1), out var lost, start));
        Assert.False(arena.TryPlace(8, Bytes(1900, 2), out _, start + Stopwatch.Frequency)); // a second later: still held
        long later = start + (long)((LaneServer.HoldFor.TotalSeconds + 1) * Stopwatch.Frequency);
        Assert.True(arena.TryPlace(9, Bytes(1900, 3), out var next, later));
        Assert.Equal(lost.Offset, next.Offset);
        Assert.False(new SharedBlock(view, lost.Offset, 7, 1900).TryClaim()); // its receiver comes too late: refused, not handed tensor 9
        Assert.Equal(Bytes(1900, 3), Read(view, next));
    }

    [SkippableFact]
    public void A_writer_that_throws_leaves_its_block_free_for_the_next_tensor()
    {
        using var arena = Arena(2048);
        var e = Assert.Throws<InvalidOperationException>(() => arena.TryPlace(5, 1900, static (_, _) => throw new InvalidOperationException("no values left"), 0, out _));
        Assert.Equal("no values left", e.Message);
        Assert.Equal(0, arena.Unread);
        Assert.True(arena.TryPlace(6, Bytes(1900, 1), out var next)); // the ring is not stuck behind it
        Assert.Equal(0, next.Offset);
    }

    [SkippableFact]
    public void A_tensor_being_read_is_not_given_up()
    {
        using var arena = Arena(2048);
        using var view = SharedSegment.TryOpen(arena.Segment.Path)!;
        long start = Stopwatch.GetTimestamp();
        Assert.True(arena.TryPlace(7, Bytes(1900, 1), out var slow, start));
        var reading = new SharedBlock(view, slow.Offset, 7, 1900);
        Assert.True(reading.TryClaim());
        long later = start + (long)((LaneServer.HoldFor.TotalSeconds + 1) * Stopwatch.Frequency);
        Assert.False(arena.TryPlace(8, Bytes(1900, 2), out _, later));
        Assert.Equal(Bytes(1900, 1), reading.Data.ToArray());
        reading.Release();
        Assert.True(arena.TryPlace(8, Bytes(1900, 2), out _, later));
    }

    [SkippableFact]
    public async Task A_receiver_that_cannot_map_the_segment_gets_the_placed_tensor_over_tcp_once()
    {
        using var server = new LaneServer("127.0.0.1") { Arena = Arena(1 << 20) };
        using var fetcher = new LaneFetcher(server.Endpoint);
        var sent = Bytes(70_000, 4);
        long number = server.NextNumber();
        Assert.True(server.Arena!.TryPlace(number, sent, out var block));
        Assert.Equal(1, server.Held);
        var fetched = await fetcher.Get(number, sent.Length).WaitAsync(Patience);
        Assert.Equal(sent, fetched.AsSpan(0, sent.Length).ToArray());
        Assert.Equal(0, server.Held);
        Assert.False(block.TryClaim());
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => fetcher.Get(number, sent.Length).WaitAsync(Patience));
        Assert.Contains($"Tensor {number} is not held at lane {server.Endpoint}", again.Message);
    }

    [SkippableTheory]
    [InlineData("/tmp/plastic-lane-x")]
    [InlineData("/dev/shm/plastic-lane-00000000-0000-0000-0000-000000000000-1-0")]
    [InlineData("/dev/shm/somebody-else")]
    public void A_path_that_is_not_a_segment_of_this_host_is_not_mapped(string path)
    {
        Skip.IfNot(SharedSegment.Available, NoSharedMemory);
        Assert.Null(SharedSegment.TryOpen(path));
    }

    [SkippableFact]
    public void A_segment_is_removed_with_its_arena_and_an_orphan_of_a_gone_process_with_the_next_one()
    {
        using (var arena = Arena(4096))
        {
            Assert.True(File.Exists(arena.Segment.Path));
            arena.Dispose();
            Assert.False(File.Exists(arena.Segment.Path));
        }
        // A process killed before it could remove its segment: no process has its id (pid_max is at most 2^22).
        string orphan = $"/dev/shm/plastic-lane-{SharedSegment.HostBoot}-{(1 << 22) + 1}-0123456789abcdef";
        File.WriteAllBytes(orphan, new byte[64]);
        using (Arena(4096)) Assert.False(File.Exists(orphan), "the orphan segment is still there");
    }

    /// <summary>What the transport does to a message between two members: the sender's serializer writes its frame, the receiver's reads it.</summary>
    /// <summary>Runs <paramref name="test"/> between a driver and a worker whose lanes take tensors from the smallest lane size.</summary>
    private static async Task BetweenTwoMembers(Action<ClusterMember, ClusterMember> test, bool shared = true)
    {
        var (driver, worker, _) = await ClusterRunTests.TwoMembers(1 << 20, laneBytes: TensorLanes.DefaultSmallestBytes, shared: shared);
        await using (driver)
        await using (worker)
            test(driver, worker);
    }

    private static (Func<Forward, byte[]> Write, Func<byte[], Forward> Read) Wire(ClusterMember driver, ClusterMember worker)
    {
        var sample = new Forward("x", 0, TensorPayload.Copy([0f], 1), TraceContext.None);
        var outgoing = (SimMessageSerializer)driver.System.Serialization.FindSerializerFor(sample);
        var incoming = (SimMessageSerializer)worker.System.Serialization.FindSerializerFor(sample);
        return (message => outgoing.ToBinary(message), frame => (Forward)incoming.FromBinary(frame, outgoing.Manifest(sample)));
    }

    [SkippableFact]
    public async Task Between_two_members_a_large_tensor_arrives_through_shared_memory_and_is_read_once()
    {
        Skip.IfNot(SharedSegment.Available, NoSharedMemory);
        await BetweenTwoMembers((driver, worker) =>
        {
            using var backend = new Plastic.Compute.Cpu.CpuBackend(threads: 1);
            var values = Enumerable.Range(0, 300_000).Select(i => MathF.Cos(i) * 1e-2f).ToArray();
            values[5] = BitConverter.Int32BitsToSingle(0x7fc0_1234); // a NaN with a payload
            values[6] = -0f;
            using var tensor = backend.Upload(values, new Shape(300, 1000));
            var sent = new Forward("block1", 3, TensorPayload.Lent(tensor), TraceContext.None);
            var (write, read) = Wire(driver, worker);
            var frame = write(sent);
            Assert.InRange(frame.Length, 1, 1024); // the 1.2 MB tensor is not in the frame
            Assert.False(sent.Activations.IsLent); // placed in shared memory: the lent array is back in the pool
            Assert.Equal(1, TensorLanes.Of(driver.System).Held);
            var received = read(frame);
            Assert.True(received.Activations.IsMapped);
            using var into = backend.Allocate(new Shape(300, 1000));
            received.Activations.CopyTo(backend, into);
            Assert.True(MemoryMarshal.AsBytes(values.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(into.ToArray().AsSpan())), "the received tensor differs");
            Assert.False(received.Activations.IsMapped);
            Assert.Equal(0, TensorLanes.Of(driver.System).Held);
            // The same frame read again (a duplicate) names a tensor already read: an error that says so, never stale bytes.
            var duplicate = read(frame);
            var e = Assert.Throws<IOException>(() => duplicate.Activations.Values.ToArray());
            Assert.Contains("is not held in its sender's shared memory", e.Message);
        });
    }

    [SkippableFact]
    public async Task A_tensor_placed_off_the_backend_is_named_once_in_its_message_and_read_from_shared_memory()
    {
        Skip.IfNot(SharedSegment.Available, NoSharedMemory);
        await BetweenTwoMembers((driver, worker) =>
        {
            using var backend = new Plastic.Compute.Cpu.CpuBackend(threads: 1);
            var values = Enumerable.Range(0, 50_000).Select(i => MathF.Sin(i) * 3f).ToArray();
            values[1] = BitConverter.Int32BitsToSingle(0x7f80_0001); // a signalling NaN
            using var tensor = backend.Upload(values, new Shape(50, 1000));
            var lanes = TensorLanes.Of(driver.System);
            Assert.Matches(@"^tensor lane at 127\.0\.0\.1:\d+, shared memory of 64 MiB within this host$", lanes.Describe());
            var placed = lanes.Place(tensor) ?? throw new InvalidOperationException("the tensor was not placed");
            Assert.True(placed.IsPlaced);
            Assert.True(MemoryMarshal.AsBytes(values.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(placed.Values)), "the placed values differ"); // read, not taken
            Assert.Equal(1, lanes.Held);
            var sent = new Forward("block1", 3, placed, TraceContext.None);
            var (write, read) = Wire(driver, worker);
            var frame = write(sent);
            Assert.InRange(frame.Length, 1, 1024);
            Assert.False(placed.IsPlaced); // named in the message: the receiver's now
            var received = read(frame);
            Assert.True(received.Activations.IsMapped);
            Assert.True(MemoryMarshal.AsBytes(values.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(received.Activations.Values)), "the received values differ");
            Assert.Equal(0, lanes.Held);
            // Below the smallest lane size nothing is placed: the tensor travels in the frame.
            using var small = backend.Upload(new float[100], new Shape(100));
            Assert.Null(lanes.Place(small));
        });
    }

    [Fact]
    public async Task With_shared_memory_off_a_large_tensor_is_fetched_over_tcp()
    {
        await BetweenTwoMembers((driver, worker) =>
        {
            Assert.Matches(@"^tensor lane at 127\.0\.0\.1:\d+, TCP only$", TensorLanes.Of(driver.System).Describe());
            var sent = new Forward("block1", 3, TensorPayload.Copy(Enumerable.Range(0, 100_000).Select(i => (float)i).ToArray(), 100, 1000), TraceContext.None);
            var (write, read) = Wire(driver, worker);
            var received = read(write(sent));
            Assert.False(received.Activations.IsMapped);
            Assert.Equal(sent, received);
        }, shared: false);
    }
}
