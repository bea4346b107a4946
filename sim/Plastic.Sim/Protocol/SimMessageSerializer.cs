using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Serialization;

namespace Plastic.Sim.Protocol;

/// <summary>
/// Binary Akka serializer for the simulator's messages: a kind byte, the strings, the step, then
/// tensor dimensions and raw little-endian float32 values. Messages will cross machines later
/// (Akka.Remote), where JSON would be 50x slower for tensors.
/// </summary>
public sealed class SimMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
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
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        var m = (ISimMessage)obj;
        w.Write(m.From);
        w.Write(m.Step);
        w.Write(m.Trace.TraceParent);
        w.Write(m.Trace.SentAtMicros);
        switch (m)
        {
            case Forward f: WritePayload(w, f.Activations); break;
            case TopDownReference t: WritePayload(w, t.Reference); break;
            case Backward b: WritePayload(w, b.Gradient); break;
            case Pairing p:
                w.Write(p.Negatives.Length);
                foreach (int i in p.Negatives) w.Write(i);
                break;
            case Snapshot s:
                WritePayload(w, s.Weight);
                w.Write(s.Bias is not null);
                if (s.Bias is not null) WritePayload(w, s.Bias);
                w.Write(s.RuleState.Length);
                foreach (var state in s.RuleState) WritePayload(w, state);
                break;
        }
        w.Flush();
        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        string from = r.ReadString();
        long step = r.ReadInt64();
        var trace = new TraceContext(r.ReadString(), r.ReadInt64());
        return manifest switch
        {
            "F" => new Forward(from, step, ReadPayload(r), trace),
            "T" => new TopDownReference(from, step, ReadPayload(r), trace),
            "B" => new Backward(from, step, ReadPayload(r), trace),
            "P" => new Pairing(from, step, ReadInts(r), trace),
            "S" => ReadSnapshot(r, from, step, trace),
            _ => throw new ArgumentException($"SimMessageSerializer: unknown manifest '{manifest}'."),
        };
    }

    private static Snapshot ReadSnapshot(BinaryReader r, string from, long step, TraceContext trace)
    {
        var weight = ReadPayload(r);
        var bias = r.ReadBoolean() ? ReadPayload(r) : null;
        int count = r.ReadInt32();
        var state = ImmutableArray.CreateBuilder<TensorPayload>(count);
        for (int i = 0; i < count; i++) state.Add(ReadPayload(r));
        return new Snapshot(from, step, weight, bias, state.MoveToImmutable(), trace);
    }

    private static void WritePayload(BinaryWriter w, TensorPayload p)
    {
        w.Write(p.Dims.Length);
        foreach (int d in p.Dims) w.Write(d);
        var bytes = MemoryMarshal.AsBytes(p.Values);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Tensor payloads are little-endian.");
        w.Write(bytes);
    }

    private static TensorPayload ReadPayload(BinaryReader r)
    {
        var dims = ReadInts(r);
        long length = 1;
        foreach (int d in dims) length *= d;
        var values = new float[length];
        int read = r.Read(MemoryMarshal.AsBytes(values.AsSpan()));
        if (read != values.Length * sizeof(float))
            throw new InvalidDataException($"SimMessageSerializer: tensor of {length} floats truncated after {read} bytes.");
        return TensorPayload.Adopt(dims, values);
    }

    private static ImmutableArray<int> ReadInts(BinaryReader r)
    {
        int n = r.ReadInt32();
        var b = ImmutableArray.CreateBuilder<int>(n);
        for (int i = 0; i < n; i++) b.Add(r.ReadInt32());
        return b.MoveToImmutable();
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
