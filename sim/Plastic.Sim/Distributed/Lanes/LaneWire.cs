using System.Buffers.Binary;
using System.Net.Sockets;

namespace Plastic.Sim.Distributed.Lanes;

/// <summary>
/// The lane protocol, both directions on one TCP connection per pair of processes: the receiver asks for a
/// tensor by its number (8 bytes); the holder answers with the number, the byte count (-1: not held) and the
/// bytes. Answers come in the order of the questions.
/// </summary>
internal static class LaneWire
{
    public const int RequestBytes = 8;
    public const int AnswerHeaderBytes = 16;

    public static void WriteRequest(Socket socket, long number)
    {
        Span<byte> request = stackalloc byte[RequestBytes];
        BinaryPrimitives.WriteInt64LittleEndian(request, number);
        SendAll(socket, request);
    }

    public static void WriteAnswer(Socket socket, long number, ReadOnlySpan<byte> bytes, bool held)
    {
        Span<byte> header = stackalloc byte[AnswerHeaderBytes];
        BinaryPrimitives.WriteInt64LittleEndian(header, number);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], held ? bytes.Length : -1);
        SendAll(socket, header);
        if (held) SendAll(socket, bytes);
    }

    public static void SendAll(Socket socket, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty) bytes = bytes[socket.Send(bytes)..];
    }

    /// <summary>Fills <paramref name="into"/> from the socket; false when the other side closed before the first byte.</summary>
    public static bool ReceiveAll(Socket socket, Span<byte> into)
    {
        int read = 0;
        while (read < into.Length)
        {
            int n = socket.Receive(into[read..]);
            if (n == 0)
            {
                if (read == 0) return false;
                throw new IOException($"the connection closed after {read} of {into.Length} bytes");
            }
            read += n;
        }
        return true;
    }
}
