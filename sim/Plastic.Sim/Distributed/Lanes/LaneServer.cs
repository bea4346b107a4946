using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Distributed.Lanes;

/// <summary>
/// Holds the tensors this process sent to others until their receivers fetch them, and serves the fetches:
/// one listening socket, one thread per connected receiving process. A tensor is written to the socket
/// straight from the payload that was sent (no copy of our own) and forgotten once fetched, its pooled array
/// given back; one never fetched (its message was lost with its receiver) is let go after <see cref="HoldFor"/>,
/// its array left to the GC. A tensor placed in this process's shared memory for a receiver on this host is
/// served from there to one that cannot map it (<see cref="Arena"/>).
/// </summary>
internal sealed class LaneServer : IDisposable
{
    /// <summary>A message is read, and its tensors asked for, milliseconds after it is written: this is only the bound for lost ones.</summary>
    public static readonly TimeSpan HoldFor = TimeSpan.FromMinutes(2);

    private readonly Socket _listener;
    private readonly ConcurrentDictionary<long, (TensorPayload Payload, long HeldSince)> _held = new();
    private readonly ConcurrentDictionary<Socket, bool> _connections = new();
    private readonly Timer _sweep;
    // Numbers start at random: a ticket of a process that is gone cannot name a tensor of a new one at the same port.
    private long _last = Random.Shared.NextInt64(1L << 40, 1L << 61);
    private volatile bool _closed;

    /// <param name="port">The port to listen on; 0: any free one.</param>
    public LaneServer(string host, int port = 0)
    {
        // An address is listened on as given (127.0.0.1 stays private to the host); a host name on every
        // interface, since what it resolves to here (127.0.1.1 on Debian) need not be what others reach.
        _listener = IPAddress.TryParse(host, out var ip) ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : Socket.OSSupportsIPv6 ? new Socket(SocketType.Stream, ProtocolType.Tcp) // both families
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(new IPEndPoint(ip ?? (_listener.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any), port));
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        _listener.Listen(64);
        Endpoint = $"{host}:{((IPEndPoint)_listener.LocalEndPoint!).Port}";
        new Thread(Accept) { IsBackground = true, Name = "plastic-lane-accept" }.Start();
        _sweep = new Timer(_ => LetGoOfLost(Stopwatch.GetTimestamp()), null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
    }

    /// <summary>"host:port" where receivers fetch: the host Akka.Remote gives this process, so whoever reaches one reaches the other.</summary>
    public string Endpoint { get; }

    /// <summary>How many tensors wait for their receivers, here or in shared memory (for the tests).</summary>
    public int Held => _held.Count + (Arena?.Unread ?? 0);

    /// <summary>Keeps a payload until its receiver asks for it; returns the number it asks with.</summary>
    public long Hold(TensorPayload payload)
    {
        long number = NextNumber();
        _held[number] = (payload, Stopwatch.GetTimestamp());
        return number;
    }

    /// <summary>A number no tensor of this lane had: for one placed in shared memory instead (<see cref="Arena"/>).</summary>
    public long NextNumber() => Interlocked.Increment(ref _last);

    /// <summary>Where this process places tensors for receivers on its host; this lane serves them to receivers elsewhere.</summary>
    public SharedArena? Arena { get; init; }

    private void LetGoOfLost(long now)
    {
        long limit = (long)(HoldFor.TotalSeconds * Stopwatch.Frequency);
        foreach (var (number, held) in _held)
            if (now - held.HeldSince > limit) _held.TryRemove(number, out _);
    }

    private void Accept()
    {
        while (!_closed)
        {
            Socket connection;
            try
            {
                connection = _listener.Accept();
            }
            catch (Exception) when (_closed)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // a connection that failed while being accepted: the next one may not
            }
            connection.NoDelay = true;
            _connections[connection] = true;
            if (_closed) connection.Dispose(); // accepted while closing
            new Thread(() => Serve(connection)) { IsBackground = true, Name = "plastic-lane-out" }.Start();
        }
    }

    private void Serve(Socket connection)
    {
        Span<byte> request = stackalloc byte[LaneWire.RequestBytes];
        try
        {
            while (LaneWire.ReceiveAll(connection, request))
            {
                long number = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(request);
                bool answered = false;
                if (_held.TryRemove(number, out var entry))
                {
                    try
                    {
                        entry.Payload.WriteOut(static (bytes, to) => LaneWire.WriteAnswer(to.connection, to.number, bytes, held: true), (connection, number));
                        answered = true;
                    }
                    catch (InvalidOperationException) when (connection.Connected)
                    {
                        // The payload had no values left to read (handed over): nothing was written yet.
                    }
                }
                else if (Arena is { } arena)
                {
                    answered = arena.TryServe(number, static (bytes, to) => LaneWire.WriteAnswer(to.connection, to.number, bytes, held: true), (connection, number));
                }
                if (!answered) LaneWire.WriteAnswer(connection, number, default, held: false);
            }
        }
        catch (Exception)
        {
            // The receiving process went away or closed its lane (its fetches fail on its side); nothing else
            // can be thrown here, and a lane's thread must not take its process down.
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            connection.Dispose();
        }
    }

    public void Dispose()
    {
        _closed = true;
        _sweep.Dispose();
        _listener.Dispose();
        foreach (var connection in _connections.Keys) connection.Dispose();
        _held.Clear();
        Arena?.Dispose();
    }
}
