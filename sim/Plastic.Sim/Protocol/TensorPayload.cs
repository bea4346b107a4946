using System.Buffers;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Plastic.Compute;

namespace Plastic.Sim.Protocol;

/// <summary>
/// A tensor travelling in a message: its dimensions and a private copy of its values. The values are a
/// float array made for the payload, or, for a message that came from another process, the received bytes
/// themselves (read in place, no copy). Neither is ever handed out for writing, so a payload cannot change
/// after it is sent. The serializer writes a payload's bytes with one copy (<see cref="RawBytes"/>).
/// Between two layers of one process on one device, the values may instead stay on the device
/// (<see cref="OnDevice"/>): a copy there that the one receiver copies into its own tensor and frees, so
/// activations do not travel through the host; reading <see cref="Values"/> first brings them to the host.
/// On a host backend the same one receiver is handed a pinned pooled array (<see cref="Lent"/>): a receiver on a host
/// backend takes it as its tensor with no copy (<see cref="HandOver"/>) and gives it back when done with it, another
/// copies it and gives it back at once: megabytes a message, every step, that would otherwise be copied once more and
/// be new large-object arrays for the GC.
/// A large tensor from another process may come on a tensor lane (<see cref="Fetching"/>): its bytes arrive
/// in a pooled array while the message is delivered; reading the values waits for them, and the one
/// receiver's copy gives the array back. From a process on the same host it may instead wait in that
/// process's shared memory (<see cref="Mapped"/>): the one receiver's copy reads it from there and frees it.
/// </summary>
public sealed class TensorPayload : IEquatable<TensorPayload>
{
    private float[]? _floats;
    private byte[]? _received;
    private readonly int _offset;
    private Tensor? _onDevice;
    private Task<byte[]>? _fetching; // a lane's fetch of the received bytes, not yet waited for
    private string? _source; // the lane and number of a fetched tensor, for the error if it never comes
    private Distributed.Lanes.SharedBlock? _shared; // where the sender placed it in shared memory, not yet read
    private Distributed.Lanes.SharedBlock? _placed; // this process placed it there for a receiver elsewhere, ticket not yet written
    private bool _lent, _lentBytes, _handedOver; // handed over: its one receiver took the values (lent array, fetched bytes or device copy)
    private readonly Lock _gate = new();

    private TensorPayload(ImmutableArray<int> dims, float[]? floats, byte[]? received, int offset, int length)
    {
        Dims = dims;
        _floats = floats;
        _received = received;
        _offset = offset;
        Length = length;
    }

    public ImmutableArray<int> Dims { get; }

    /// <summary>How the values reached this process (for the traces: each way copies the bytes a different number of times).</summary>
    public TensorArrival Arrival { get; private init; }
    public ReadOnlySpan<float> Values
    {
        get
        {
            if (_floats is { } floats) return floats.AsSpan(0, Length);
            if (Received() is { } received) return MemoryMarshal.Cast<byte, float>(received.AsSpan(_offset, Length * sizeof(float)));
            return ToHost();
        }
    }
    public int Length { get; }
    /// <summary>Bytes of tensor data carried (what the traffic counters add up).</summary>
    public long Bytes => (long)Length * sizeof(float);
    /// <summary>The values as the little-endian float32 bytes the wire carries.</summary>
    internal ReadOnlySpan<byte> RawBytes => MemoryMarshal.AsBytes(Values);

    public Shape Shape => new([.. Dims]);

    /// <summary>Copies a tensor off its backend into a new payload (one copy).</summary>
    public static TensorPayload From(Tensor tensor) => new([.. tensor.Shape.Dims], tensor.ToArray(), null, 0, tensor.Length);

    /// <summary>
    /// A payload of a tensor copy that stays on its device (made for the payload; the payload owns it) for
    /// exactly one receiver in this process: see <see cref="CopyTo"/>.
    /// </summary>
    internal static TensorPayload OnDevice(Tensor copy) => new([.. copy.Shape.Dims], null, null, 0, copy.Length) { _onDevice = copy };

    /// <summary>
    /// A payload of a tensor for exactly one receiver, in a pinned array of its exact length from <see cref="HostArrays"/>. A receiver in
    /// this process takes it as its tensor (<see cref="HandOver"/>) or gives it back with its <see cref="CopyTo"/>; for one in another process, the tensor lane that
    /// carries it gives it back once written (<see cref="WriteOut"/>), and one that travels inside Akka's frame
    /// instead is left to the GC. After that the payload has no values left to read.
    /// </summary>
    internal static TensorPayload Lent(Tensor tensor)
    {
        var array = HostArrays.Rent(tensor.Length);
        tensor.Backend.Download(tensor, array);
        return new([.. tensor.Shape.Dims], array, null, 0, tensor.Length) { _lent = true };
    }

    /// <summary>
    /// A payload of host values for exactly one receiver, copied into a pinned pooled array like <see cref="Lent(Tensor)"/>'s:
    /// a training batch every step would otherwise be a new megabyte array, whose fresh pages the kernel clears (half a
    /// millisecond a step of the quickstart's driver, perf 2026-12-05).
    /// </summary>
    internal static TensorPayload Lent(ReadOnlySpan<float> values, int[] dims)
    {
        RequireFilled(values.Length, dims);
        var array = HostArrays.Rent(values.Length);
        values.CopyTo(array);
        return new([.. dims], array, null, 0, values.Length) { _lent = true };
    }

    /// <summary>
    /// For the deserializer: a tensor of <paramref name="count"/> floats whose bytes a lane is fetching into a
    /// pooled array (<paramref name="source"/> names the lane and the number, for the error if it never comes).
    /// </summary>
    internal static TensorPayload Fetching(ImmutableArray<int> dims, int count, Task<byte[]> bytes, string source) =>
        new(dims, null, null, 0, count) { _fetching = bytes, _source = source, Arrival = TensorArrival.TcpLane };

    /// <summary>
    /// For the deserializer: a tensor of <paramref name="count"/> floats that its sender, a process on this host,
    /// holds in shared memory (<paramref name="source"/> names it, for the error if it is not held any more).
    /// </summary>
    internal static TensorPayload Mapped(ImmutableArray<int> dims, int count, Distributed.Lanes.SharedBlock block, string source) =>
        new(dims, null, null, 0, count) { _shared = block, _source = source, Arrival = TensorArrival.SharedMemory };

    /// <summary>
    /// A payload whose values this process wrote straight off the backend into its shared memory for one receiver
    /// in another process (<see cref="Distributed.Lanes.TensorLanes.Place"/>); the serializer writes its ticket
    /// (<see cref="TakePlaced"/>), after which the values are the receiver's alone.
    /// </summary>
    internal static TensorPayload Placed(ImmutableArray<int> dims, int count, Distributed.Lanes.SharedBlock block) =>
        new(dims, null, null, 0, count) { _placed = block };

    /// <summary>For the serializer: the block to name in the message, once (null when not placed, or named already).</summary>
    internal Distributed.Lanes.SharedBlock? TakePlaced()
    {
        lock (_gate)
        {
            if (_placed is not { } block) return null;
            _placed = null;
            _handedOver = true;
            return block;
        }
    }

    /// <summary>Whether the values are in this process's shared memory, their ticket not yet written (for the tests).</summary>
    internal bool IsPlaced
    {
        get { lock (_gate) return _placed is not null; }
    }

    /// <summary>Claims a shared block for reading, or says why it cannot be read.</summary>
    private static void Claim(Distributed.Lanes.SharedBlock block, string? source)
    {
        if (!block.TryClaim())
            throw new IOException($"Tensor {source} is not held in its sender's shared memory: it was read already, or its sender let it go (it holds an unread tensor {Distributed.Lanes.LaneServer.HoldFor.TotalMinutes:F0} minutes).");
    }

    /// <summary>The received bytes, after waiting for a lane's fetch if one is under way.</summary>
    private byte[]? Received()
    {
        if (Volatile.Read(ref _fetching) is null) return _received;
        lock (_gate)
        {
            if (_fetching is { } fetching)
            {
                try
                {
                    if (!fetching.Wait(Distributed.Lanes.TensorLanes.FetchTimeout))
                        throw new TimeoutException($"Tensor {_source} did not arrive within {Distributed.Lanes.TensorLanes.FetchTimeout.TotalSeconds:F0} s.");
                }
                catch (AggregateException e) when (e.InnerException is { } inner)
                {
                    throw new IOException($"Payload {this}: {inner.Message}", inner);
                }
                _received = fetching.Result;
                _lentBytes = true;
                _fetching = null;
            }
            return _received;
        }
    }

    /// <summary>Whether the values are in a pooled array not yet given back (for the tests of the handoff).</summary>
    internal bool IsLent
    {
        get { lock (_gate) return _lent || _lentBytes; }
    }

    /// <summary>Whether the values wait in the sender's shared memory, not yet read (for the tests of shared lanes).</summary>
    internal bool IsMapped
    {
        get { lock (_gate) return _shared is not null; }
    }

    /// <summary>Whether the values are still only on the device (for the tests of the handoff).</summary>
    internal bool IsOnDevice
    {
        get { lock (_gate) return _onDevice is not null; }
    }

    /// <summary>
    /// Brings an on-device payload's values to the host (once) and frees the device copy; a shared block's the
    /// same way (read once, then freed for its sender).
    /// </summary>
    private float[] ToHost()
    {
        lock (_gate)
        {
            if (_handedOver) throw new InvalidOperationException($"Payload {this}: its values were handed to its one receiver, which copied them and let go of the payload's copy.");
            if (_floats is not null) return _floats;
            if (_placed is { } placed) return MemoryMarshal.Cast<byte, float>(placed.Data).ToArray(); // held for its receiver: read, not taken
            if (_shared is { } block)
            {
                Claim(block, _source);
                try
                {
                    return _floats = MemoryMarshal.Cast<byte, float>(block.Data).ToArray();
                }
                finally
                {
                    block.Release();
                    _shared = null;
                }
            }
            var host = _onDevice!.ToArray();
            _onDevice.Dispose();
            _onDevice = null;
            return _floats = host;
        }
    }

    /// <summary>A payload from values the caller gives up: the array is copied, so the caller may keep using it.</summary>
    public static TensorPayload Copy(ReadOnlySpan<float> values, params int[] dims)
    {
        RequireFilled(values.Length, dims);
        return new([.. dims], values.ToArray(), null, 0, values.Length);
    }

    private static void RequireFilled(int count, int[] dims)
    {
        var shape = new Shape(dims);
        if (shape.Length != count)
            throw new ShapeMismatchException($"TensorPayload: {count} values do not fill shape {shape}.");
    }

    /// <summary>For readers that made the array: takes ownership of an array nobody else holds.</summary>
    internal static TensorPayload Adopt(ImmutableArray<int> dims, float[] values) => new(dims, values, null, 0, values.Length);

    /// <summary>
    /// For the deserializer: the values are read in place from <paramref name="count"/> little-endian floats at
    /// <paramref name="offset"/> of a received buffer that nobody else holds or writes.
    /// </summary>
    internal static TensorPayload Adopt(ImmutableArray<int> dims, byte[] received, int offset, int count)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Tensor payloads are little-endian float32.");
        return new(dims, null, received, offset, count) { Arrival = TensorArrival.Frame };
    }

    /// <summary>Whether the values are read in place from <paramref name="buffer"/> (for the tests of the zero-copy receive).</summary>
    internal bool ReadsFrom(byte[] buffer) => ReferenceEquals(_received, buffer);

    /// <summary>
    /// Puts the values into a tensor of the same length on a backend: from the device copy without leaving the
    /// device where the backend shares it (the copy is then freed: one receiver), else from the host; a lent
    /// array is given back to the pool once copied (one receiver).
    /// </summary>
    public void CopyTo(IComputeBackend backend, Tensor destination)
    {
        lock (_gate)
        {
            if (_onDevice is not null && backend.TryCopyFromSameDevice(_onDevice, destination))
            {
                _onDevice.Dispose();
                _onDevice = null;
                _handedOver = true;
                return;
            }
        }
        lock (_gate)
        {
            if (_shared is { } block)
            {
                Claim(block, _source);
                try
                {
                    backend.Upload(MemoryMarshal.Cast<byte, float>(block.Data), destination);
                }
                finally
                {
                    block.Release();
                    _shared = null;
                    _handedOver = true;
                }
                return;
            }
        }
        var values = Values; // waits for a lane's fetch
        lock (_gate)
        {
            if (_lent || _lentBytes)
            {
                backend.Upload(values, destination);
                GiveBack();
                return;
            }
        }
        backend.Upload(values, destination);
    }

    /// <summary>
    /// Gives a lent array to its one receiver as a tensor of <paramref name="backend"/>, without copying it, where that
    /// backend keeps tensors in host memory (<see cref="IComputeBackend.Adopt"/>): the tensor's disposal gives the array
    /// back. Null for any other payload or backend: the receiver then copies (<see cref="CopyTo"/>). A lent payload
    /// disposes <paramref name="replacing"/>, the receiver's tensor that the new one replaces, before the backend takes
    /// the array, so that the backend's tally never counts the two together (the array left for the receiver's copy was
    /// never counted either); it does so even where the backend then declines.
    /// </summary>
    public Tensor? HandOver(IComputeBackend backend, Tensor? replacing = null)
    {
        lock (_gate)
        {
            if (!_lent) return null;
            replacing?.Dispose();
            if (backend.Adopt(_floats!, Shape) is not { } taken) return null;
            _floats = null;
            _lent = false;
            _handedOver = true;
            return taken;
        }
    }

    /// <summary>
    /// For the tensor lane that carries this payload to its one receiver: writes the values and gives a lent
    /// array back once they are written, under the payload's lock so that they cannot be given back while being
    /// written. A payload already handed over throws <see cref="InvalidOperationException"/> before writing anything.
    /// </summary>
    internal void WriteOut<TState>(ReadOnlySpanAction<byte, TState> write, TState state)
    {
        lock (_gate)
        {
            write(RawBytes, state);
            if (_lent) GiveBack();
        }
    }

    /// <summary>Returns a lent array or fetched bytes to their pool once the one receiver has copied them.</summary>
    private void GiveBack()
    {
        if (_lent) HostArrays.Return(_floats!);
        else ArrayPool<byte>.Shared.Return(_received!);
        _floats = null;
        _received = null;
        _lent = _lentBytes = false;
        _handedOver = true;
    }

    public bool Equals(TensorPayload? other) =>
        other is not null && Dims.SequenceEqual(other.Dims) && Values.SequenceEqual(other.Values);

    public override bool Equals(object? obj) => Equals(obj as TensorPayload);
    public override int GetHashCode() => HashCode.Combine(Dims.Length, Length);
    public override string ToString() => $"[{string.Join("x", Dims)}]";
}

/// <summary>
/// How a tensor payload reached the process that reads it: made there; inside Akka.Remote's frame (about nine
/// copies of its bytes between the two layers); on a tensor lane over TCP (two by Plastic, two in the kernel);
/// through a lane's shared memory (two by Plastic, none in the kernel).
/// </summary>
public enum TensorArrival { InProcess, Frame, TcpLane, SharedMemory }
