using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using Plastic.Sim.Distributed.Lanes;

namespace Plastic.Sim.Protocol;

/// <summary>
/// Binary Akka serializer for the simulator's messages: the strings, the step, then per tensor its
/// dimensions and raw little-endian float32 values, aligned to 4 bytes. A message is written into one
/// array of its exact size (each tensor's bytes copied once, straight from the payload), and a received
/// message's tensors are read in place from the array the transport handed over (no copy): tensors are
/// megabytes, and every extra large array is a copy and a large-object-heap allocation on each side.
/// Between processes, a large tensor goes on a tensor lane instead (<see cref="TensorLanes"/>): the message
/// then carries where to fetch it, and reading the message starts the fetch.
/// </summary>
public sealed class SimMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private TensorLanes Lanes => _lanes ??= TensorLanes.Of(system);
    private TensorLanes? _lanes;

    public override int Identifier => 4711;

    public override string Manifest(object o) => o switch
    {
        Forward => "F",
        Pairing => "P",
        TopDownReference => "T",
        Backward => "B",
        Snapshot => "S",
        _ => throw new ArgumentException($"SimMessageSerializer cannot serialise {o.GetType()}."),
    };

    public override byte[] ToBinary(object obj)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Tensor payloads are little-endian float32.");
        var m = (ISimMessage)obj;
        // Two passes over the same writer: the first only measures (and offers large tensors on lanes), the
        // second fills the one array.
        var tickets = new List<LaneTicket?>();
        var measure = new WireWriter(null, Lanes, tickets);
        Write(ref measure, m);
        var bytes = new byte[measure.Position];
        var fill = new WireWriter(bytes, Lanes, tickets);
        Write(ref fill, m);
        return bytes;
    }

    private static void Write(ref WireWriter w, ISimMessage m)
    {
        w.String(m.From);
        w.Long(m.Step);
        w.String(m.Trace.TraceParent);
        w.Long(m.Trace.SentAtMicros);
        switch (m)
        {
            case Forward f: w.Payload(f.Activations); break;
            case TopDownReference t: w.Payload(t.Reference); break;
            case Backward b: w.Payload(b.Gradient); break;
            case Pairing p:
                w.Int(p.Negatives.Length);
                foreach (int i in p.Negatives) w.Int(i);
                break;
            case Snapshot s:
                w.Payload(s.Weight);
                w.Bool(s.Bias is not null);
                if (s.Bias is not null) w.Payload(s.Bias);
                w.Int(s.RuleState.Length);
                foreach (var state in s.RuleState) w.Payload(state);
                break;
        }
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var r = new WireReader(bytes, Lanes);
        string from = r.String();
        long step = r.Long();
        var trace = new TraceContext(r.String(), r.Long());
        ISimMessage message = manifest switch
        {
            "F" => new Forward(from, step, r.Payload(), trace),
            "T" => new TopDownReference(from, step, r.Payload(), trace),
            "B" => new Backward(from, step, r.Payload(), trace),
            "P" => new Pairing(from, step, r.Ints(), trace),
            "S" => ReadSnapshot(ref r, from, step, trace),
            _ => throw new ArgumentException($"SimMessageSerializer: unknown manifest '{manifest}'."),
        };
        if (r.Position != bytes.Length)
            throw new InvalidDataException($"SimMessageSerializer: {bytes.Length - r.Position} bytes left over after a '{manifest}' message.");
        return message;
    }

    private static Snapshot ReadSnapshot(ref WireReader r, string from, long step, TraceContext trace)
    {
        var weight = r.Payload();
        var bias = r.Bool() ? r.Payload() : null;
        int count = r.Int();
        var state = ImmutableArray.CreateBuilder<TensorPayload>(count);
        for (int i = 0; i < count; i++) state.Add(r.Payload());
        return new Snapshot(from, step, weight, bias, state.MoveToImmutable(), trace);
    }

    /// <summary>
    /// Writes the wire format into an array, or only counts its bytes when there is none; the counting pass
    /// offers each tensor the lanes carry and notes its ticket, which the writing pass then writes.
    /// </summary>
    private ref struct WireWriter(byte[]? into, TensorLanes lanes, List<LaneTicket?> tickets)
    {
        private int _payloads;
        public int Position { get; private set; }

        private Span<byte> Take(int count)
        {
            var span = into is null ? Span<byte>.Empty : into.AsSpan(Position, count);
            Position += count;
            return span;
        }

        public void Int(int v) { var s = Take(4); if (into is not null) BinaryPrimitives.WriteInt32LittleEndian(s, v); }
        public void Long(long v) { var s = Take(8); if (into is not null) BinaryPrimitives.WriteInt64LittleEndian(s, v); }
        public void Bool(bool v) { var s = Take(1); if (into is not null) s[0] = v ? (byte)1 : (byte)0; }

        public void String(string v)
        {
            int length = Encoding.UTF8.GetByteCount(v);
            Int(length);
            var s = Take(length);
            if (into is not null) Encoding.UTF8.GetBytes(v, s);
        }

        public void Payload(TensorPayload p)
        {
            Int(p.Dims.Length);
            foreach (int d in p.Dims) Int(d);
            if (into is null) tickets.Add(lanes.Carries(p) ? lanes.Offer(p) : null);
            if (tickets[_payloads++] is { } ticket)
            {
                Bool(true);
                String(ticket.Endpoint);
                Long(ticket.Number);
                String(ticket.SharedPath ?? "");
                Long(ticket.SharedOffset);
                return;
            }
            Bool(false);
            Take((4 - Position % 4) % 4); // a new array is zeroed: the padding needs no writing
            var s = Take(p.RawBytes.Length);
            if (into is not null) p.RawBytes.CopyTo(s);
        }
    }

    /// <summary>Reads the wire format; every read is checked against the end of the array.</summary>
    private ref struct WireReader(byte[] bytes, TensorLanes lanes)
    {
        public int Position { get; private set; }

        private ReadOnlySpan<byte> Take(long count)
        {
            if (count < 0 || Position + count > bytes.Length)
                throw new InvalidDataException($"SimMessageSerializer: message truncated: {count} bytes wanted at {Position} of {bytes.Length}.");
            var span = bytes.AsSpan(Position, (int)count);
            Position += (int)count;
            return span;
        }

        public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        public long Long() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
        public bool Bool() => Take(1)[0] != 0;
        public string String() => Encoding.UTF8.GetString(Take(Int()));

        public ImmutableArray<int> Ints()
        {
            int n = Int();
            if (n < 0 || 4L * n > bytes.Length - Position)
                throw new InvalidDataException($"SimMessageSerializer: message truncated: {n} integers announced at {Position} of {bytes.Length} bytes.");
            var b = ImmutableArray.CreateBuilder<int>(n);
            for (int i = 0; i < n; i++) b.Add(Int());
            return b.MoveToImmutable();
        }

        public TensorPayload Payload()
        {
            var dims = Ints();
            long length = 1;
            foreach (int d in dims)
            {
                if (d < 0 || (length *= d) > int.MaxValue / sizeof(float))
                    throw new InvalidDataException($"SimMessageSerializer: a tensor of dimensions [{string.Join("x", dims)}] announced at {Position} of {bytes.Length} bytes.");
            }
            if (Bool())
            {
                string endpoint = String();
                long number = Long();
                string shared = String();
                long sharedOffset = Long();
                return lanes.Receive(dims, (int)length, new LaneTicket(endpoint, number, shared.Length == 0 ? null : shared, sharedOffset));
            }
            Take((4 - Position % 4) % 4);
            int offset = Position;
            Take(length * sizeof(float));
            return TensorPayload.Adopt(dims, bytes, offset, (int)length);
        }
    }

    /// <summary>HOCON that binds this serializer to the simulator's messages.</summary>
    public static string Config => $$"""
        akka.actor {
          serializers.plastic-sim = "{{typeof(SimMessageSerializer).AssemblyQualifiedName}}"
          serialization-bindings {
            "{{typeof(ISimMessage).AssemblyQualifiedName}}" = plastic-sim
          }
        }
        """;
}
