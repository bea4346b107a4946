using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Remote;
using Plastic.Compute;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Distributed.Lanes;

/// <summary>
/// Tensor lanes: a tensor of a message to another process travels on a TCP connection of its own instead of
/// inside Akka.Remote's frame. The message carries only the tensor's dimensions and where to fetch it; the
/// receiving process asks for it as soon as the message is read, while Akka delivers it to the actor.
/// Why: inside a frame, a tensor of a megabyte was copied about nine times between the two layers
/// (Akka.Remote wraps the serializer's array in two protobuf envelopes and a DotNetty buffer on each side),
/// each copy a new large-object array whose fresh pages the kernel had to clear: in a run over two workers
/// on one host, a sixth of the CPU went to the kernel (perf, 2026-12-03). On a lane the bytes leave from the
/// sent payload and arrive in a pooled array, one socket write and one read. Between processes of one host
/// the bytes need no socket: the sender places them in its shared memory (<see cref="SharedArena"/>) and the
/// receiver copies them from there into its tensor; TCP stays for receivers on other hosts and for tensors
/// the shared ring has no room for.
/// One instance per actor system (an Akka extension); a system without remoting never offers lanes.
/// </summary>
public sealed class TensorLanes : IExtension, IDisposable
{
    /// <summary>Whether a process sends large tensors on lanes ("on", the default) or inside Akka's frames ("off").</summary>
    public const string EnabledKey = "plastic.lanes.enabled";
    /// <summary>Tensors smaller than this travel inside the message: a fetch's round trip costs more than copying them.</summary>
    public const string SmallestKey = "plastic.lanes.smallest-tensor-bytes";
    public const long DefaultSmallestBytes = 64 * 1024;
    /// <summary>The port of this process's lane (0: any free port).</summary>
    public const string PortKey = "plastic.lanes.port";
    /// <summary>Bytes of shared memory this process places tensors in for receivers on its host (0: TCP only).</summary>
    public const string SharedBytesKey = "plastic.lanes.shared-memory-bytes";
    public const long DefaultSharedBytes = 64L << 20;
    /// <summary>A fetch not answered in this time fails the receiving node (the failure detector has long since seen a dead sender).</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(60);

    private readonly ExtendedActorSystem _system;
    private readonly Dictionary<string, Task<LaneFetcher>> _fetchers = [];
    private readonly Lock _gate = new();
    private readonly int _port;
    private readonly long _sharedBytes;
    private readonly Dictionary<string, SharedSegment?> _mapped = []; // other processes' segments, null: not mappable here
    private LaneServer? _server;
    private bool _disposed;

    internal TensorLanes(ExtendedActorSystem system)
    {
        _system = system;
        var config = system.Settings.Config;
        Offers = system.Provider is RemoteActorRefProvider && (!config.HasPath(EnabledKey) || config.GetBoolean(EnabledKey));
        SmallestBytes = config.HasPath(SmallestKey) ? config.GetByteSize(SmallestKey) ?? DefaultSmallestBytes : DefaultSmallestBytes;
        _port = config.HasPath(PortKey) ? config.GetInt(PortKey) : 0;
        _sharedBytes = config.HasPath(SharedBytesKey) ? config.GetByteSize(SharedBytesKey) ?? DefaultSharedBytes : DefaultSharedBytes;
        system.RegisterOnTermination(Dispose);
    }

    public static TensorLanes Of(ActorSystem system) => system.WithExtension<TensorLanes, TensorLanesId>();

    /// <summary>Whether this process sends large tensors on lanes (a process always fetches what others offer).</summary>
    public bool Offers { get; }
    public long SmallestBytes { get; }

    /// <summary>Whether <paramref name="payload"/> goes on a lane when its message leaves this process.</summary>
    internal bool Carries(TensorPayload payload) => Offers && payload.Bytes >= SmallestBytes && payload.Bytes <= int.MaxValue;

    /// <summary>
    /// Opens this process's lane now, so that a port in use is an error at start-up: opened at the first
    /// message instead, a failure would be inside Akka.Remote's serialization, which drops the message and
    /// only logs it. Returns where receivers fetch ("host:port"), or null when this process offers no lanes.
    /// </summary>
    public string? Open() => Offers ? Server().Endpoint : null;

    /// <summary>Opens the lane (<see cref="Open"/>) and says where it is and how tensors travel, for the start-up line.</summary>
    public string Describe() => Open() is { } endpoint
        ? $"tensor lane at {endpoint}, {(Server().Arena is { } arena ? $"shared memory of {arena.Segment.Capacity >> 20} MiB within this host" : "TCP only")}"
        : "tensor lanes off";

    /// <summary>
    /// Holds the payload for its receiver; returns where and by which number to fetch it. The bytes go into this
    /// process's shared memory when it has room (a receiver on this host reads them there, one elsewhere over
    /// TCP); else the lane holds the payload itself.
    /// </summary>
    internal LaneTicket Offer(TensorPayload payload)
    {
        var server = Server();
        if (payload.TakePlaced() is { } block) return new LaneTicket(server.Endpoint, block.Number, block.Segment.Path, block.Offset);
        if (server.Arena is { } arena && payload.Bytes <= int.MaxValue)
        {
            try
            {
                if (arena.TryPlace(server.NextNumber(), (int)payload.Bytes, static (block, sent) => sent.WriteOut(static (bytes, to) => bytes.CopyTo(to.Data), block), payload, out var placed))
                    return new LaneTicket(server.Endpoint, placed.Number, arena.Segment.Path, placed.Offset);
            }
            catch (InvalidOperationException)
            {
                // Handed over already (a message serialized a second time): the lane answers "not held" for it.
            }
        }
        return new LaneTicket(server.Endpoint, server.Hold(payload), null, 0);
    }

    /// <summary>
    /// A payload for a tensor to one receiver in another process, its values copied off the backend straight into
    /// this process's shared memory (the one copy on this side); null when the lanes do not carry it or the ring
    /// has no room now (the caller then copies it into a host array, which <see cref="Offer"/> places or holds).
    /// </summary>
    internal TensorPayload? Place(Tensor tensor)
    {
        long bytes = (long)tensor.Length * sizeof(float);
        if (!Offers || bytes < SmallestBytes || bytes > int.MaxValue || Server() is not { Arena: { } arena } server) return null;
        if (!arena.TryPlace(server.NextNumber(), (int)bytes, static (block, t) => t.Backend.Download(t, MemoryMarshal.Cast<byte, float>(block.Data)), tensor, out var block))
            return null;
        return TensorPayload.Placed([.. tensor.Shape.Dims], tensor.Length, block);
    }

    /// <summary>
    /// The payload of a tensor a message names by its ticket: read from the sender's shared memory where this
    /// process can map it (same host), else fetched over TCP (see <see cref="Fetch"/>).
    /// </summary>
    internal TensorPayload Receive(ImmutableArray<int> dims, int count, LaneTicket ticket)
    {
        int bytes = count * sizeof(float);
        string source = $"{ticket.Number} of lane {ticket.Endpoint}";
        if (ticket.SharedPath is { } path && Mapped(path) is { } segment && SharedBlock.Fits(segment, ticket.SharedOffset, bytes))
        {
            Interlocked.Increment(ref _receivedShared);
            return TensorPayload.Mapped(dims, count, new SharedBlock(segment, ticket.SharedOffset, ticket.Number, bytes), source);
        }
        Interlocked.Increment(ref _receivedTcp);
        return TensorPayload.Fetching(dims, count, Fetch(ticket.Endpoint, ticket.Number, bytes), source);
    }

    /// <summary>How many tensors this process received through shared memory and over TCP (for the tests).</summary>
    internal (long Shared, long Tcp) Received => (Interlocked.Read(ref _receivedShared), Interlocked.Read(ref _receivedTcp));
    private long _receivedShared, _receivedTcp;

    /// <summary>Another process's shared memory, mapped once; null where it cannot be (another host, or gone).</summary>
    private SharedSegment? Mapped(string path)
    {
        lock (_gate)
        {
            if (_disposed) return null;
            if (!_mapped.TryGetValue(path, out var segment)) _mapped[path] = segment = SharedSegment.TryOpen(path);
            return segment;
        }
    }

    /// <summary>
    /// Starts fetching tensor <paramref name="number"/> of <paramref name="bytes"/> bytes from the lane at
    /// <paramref name="endpoint"/>. Never blocks: it is called where Akka.Remote reads messages, and a first
    /// connection (at most <see cref="LaneFetcher.ConnectTimeout"/>) is made on the thread pool.
    /// </summary>
    internal Task<byte[]> Fetch(string endpoint, long number, int bytes)
    {
        Task<LaneFetcher> connecting;
        lock (_gate)
        {
            if (_disposed) return Task.FromException<byte[]>(new ObjectDisposedException(nameof(TensorLanes), "this process closed its lanes"));
            if (!_fetchers.TryGetValue(endpoint, out connecting!) || connecting.IsFaulted || connecting.IsCompletedSuccessfully && connecting.Result.IsBroken)
            {
                if (connecting?.IsCompletedSuccessfully == true) connecting.Result.Dispose();
                _fetchers[endpoint] = connecting = Task.Run(() => new LaneFetcher(endpoint)); // a lane that failed is tried afresh
            }
        }
        // Connected (every fetch after a lane's first): the fetcher's own task, without an async hop whose
        // continuation would wake a thread-pool thread between the lane's reader and the waiting layer.
        if (connecting.IsCompletedSuccessfully) return connecting.Result.Get(number, bytes);
        return Get(connecting, endpoint, number, bytes);
    }

    private static async Task<byte[]> Get(Task<LaneFetcher> connecting, string endpoint, long number, int bytes)
    {
        LaneFetcher fetcher;
        try
        {
            fetcher = await connecting.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw new IOException($"Tensor {number} could not be fetched: no lane at {endpoint} ({e.Message}).", e);
        }
        return await fetcher.Get(number, bytes).ConfigureAwait(false);
    }

    /// <summary>How many sent tensors wait for their receivers (for the tests).</summary>
    internal int Held => _server?.Held ?? 0;

    private LaneServer Server()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_server is not null) return _server;
            var arena = _sharedBytes > 0 ? SharedArena.TryCreate(_sharedBytes) : null;
            try
            {
                return _server = new LaneServer(_system.Provider.DefaultAddress.Host ?? "127.0.0.1", _port) { Arena = arena };
            }
            catch
            {
                arena?.Dispose();
                throw;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _server?.Dispose();
            foreach (var segment in _mapped.Values) segment?.Dispose();
            foreach (var connecting in _fetchers.Values)
                connecting.ContinueWith(c => c.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }
}

/// <summary>
/// Where a tensor sent on a lane waits, and its number there: at the sender's TCP lane, and, when it was
/// placed in the sender's shared memory, that segment's path and the block's offset in it.
/// </summary>
internal readonly record struct LaneTicket(string Endpoint, long Number, string? SharedPath, long SharedOffset);

public sealed class TensorLanesId : ExtensionIdProvider<TensorLanes>
{
    public override TensorLanes CreateExtension(ExtendedActorSystem system) => new(system);
}
