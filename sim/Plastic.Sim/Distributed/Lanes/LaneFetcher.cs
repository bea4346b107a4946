using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;

namespace Plastic.Sim.Distributed.Lanes;

/// <summary>
/// This process's connection to one other process's <see cref="LaneServer"/>: fetches are asked in order and
/// answered in order by one reader thread, which reads each tensor's bytes straight from the socket into an
/// array of the shared pool (the receiving payload gives it back once its receiver has copied it). When the
/// connection fails, every fetch waiting on it fails with the reason, and so does every later one.
/// </summary>
internal sealed class LaneFetcher : IDisposable
{
    private readonly Socket _socket;
    private readonly Lock _gate = new();
    private readonly Queue<Fetch> _waiting = new();
    private Exception? _broken;

    /// <summary>A lane that does not accept within this time is taken as absent (a firewall may drop the attempt silently).</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Connects to the lane at "host:port" (blocking, at most <see cref="ConnectTimeout"/>).</summary>
    public LaneFetcher(string endpoint)
    {
        Endpoint = endpoint;
        int colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw new FormatException($"'{endpoint}' is not host:port");
        _socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = new CancellationTokenSource(ConnectTimeout);
            _socket.ConnectAsync(endpoint[..colon], port, timeout.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            _socket.Dispose();
            throw new TimeoutException($"no connection within {ConnectTimeout.TotalSeconds:F0} s");
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        new Thread(Read) { IsBackground = true, Name = "plastic-lane-in" }.Start();
    }

    public string Endpoint { get; }

    public bool IsBroken
    {
        get { lock (_gate) return _broken is not null; }
    }

    /// <summary>Asks for tensor <paramref name="number"/> of <paramref name="bytes"/> bytes; the task ends with a pooled array holding them.</summary>
    public Task<byte[]> Get(long number, int bytes)
    {
        var fetch = new Fetch(number, bytes);
        lock (_gate)
        {
            if (_broken is not null) return Task.FromException<byte[]>(Failure(number, _broken));
            _waiting.Enqueue(fetch); // enqueued and asked under one lock: answers come in this order
            try
            {
                LaneWire.WriteRequest(_socket, number);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                BreakLocked(e);
            }
        }
        return fetch.Done.Task;
    }

    private void Read()
    {
        Span<byte> header = stackalloc byte[LaneWire.AnswerHeaderBytes];
        Fetch? fetch = null; // the one being answered: taken off the queue, so a failure must reach it here
        try
        {
            while (LaneWire.ReceiveAll(_socket, header))
            {
                long number = BinaryPrimitives.ReadInt64LittleEndian(header);
                long length = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
                lock (_gate)
                {
                    if (!_waiting.TryDequeue(out fetch) || fetch.Number != number)
                        throw new InvalidDataException($"an answer for tensor {number} came where {(fetch is null ? "none was asked for" : $"tensor {fetch.Number} was")}");
                }
                if (length < 0)
                {
                    fetch.Done.TrySetException(new InvalidOperationException(
                        $"Tensor {number} is not held at lane {Endpoint}: its sender let it go (it holds an unfetched tensor {LaneServer.HoldFor.TotalMinutes:F0} minutes) or restarted."));
                    fetch = null;
                    continue;
                }
                if (length != fetch.Bytes)
                    throw new InvalidDataException($"tensor {number} came with {length} bytes where its message announced {fetch.Bytes}");
                var array = ArrayPool<byte>.Shared.Rent(fetch.Bytes);
                if (fetch.Bytes > 0 && !LaneWire.ReceiveAll(_socket, array.AsSpan(0, fetch.Bytes)))
                {
                    ArrayPool<byte>.Shared.Return(array);
                    throw new IOException($"the sending process closed its lane before tensor {number}'s {fetch.Bytes} bytes");
                }
                fetch.Done.TrySetResult(array);
                fetch = null;
            }
            Break(new IOException("the sending process closed its lane"));
        }
        catch (Exception e)
        {
            fetch?.Done.TrySetException(Failure(fetch.Number, e));
            Break(e);
        }
        _socket.Dispose(); // broken for good: a later fetch to this lane connects afresh
    }

    private void Break(Exception reason)
    {
        lock (_gate) BreakLocked(reason);
    }

    private void BreakLocked(Exception reason)
    {
        _broken ??= reason;
        while (_waiting.TryDequeue(out var fetch)) fetch.Done.TrySetException(Failure(fetch.Number, reason));
    }

    private Exception Failure(long number, Exception reason) =>
        new IOException($"Tensor {number} could not be fetched from lane {Endpoint}: {reason.Message}", reason);

    public void Dispose()
    {
        Break(new ObjectDisposedException(nameof(LaneFetcher), "this process closed its lanes"));
        _socket.Dispose();
    }

    private sealed class Fetch(long number, int bytes)
    {
        public long Number { get; } = number;
        public int Bytes { get; } = bytes;
        public TaskCompletionSource<byte[]> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
