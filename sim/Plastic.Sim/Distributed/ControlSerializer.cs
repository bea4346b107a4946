using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Serialization;
using Plastic.Sim.Actors;

namespace Plastic.Sim.Distributed;

/// <summary>
/// Binary Akka serializer for the messages that set up, drive and take down a run across processes:
/// Connect (actor references as paths), StepDone, StepsDone, NodeFailed, GetParameters, Parameters (raw
/// float32), the node hosts' messages and a post's Fanout (its message through the message's own serializer). Learning traffic has its own, <see cref="Protocol.SimMessageSerializer"/>.
/// </summary>
public sealed class ControlSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public override int Identifier => 4712;

    public override string Manifest(object o) => o switch
    {
        Connect => "C",
        StepDone => "D",
        StepsDone => "d",
        Fanout => "F",
        NodeFailed => "X",
        GetParameters => "G",
        Parameters => "W",
        HostNodes => "H",
        NodesHosted => "N",
        HostingFailed => "E",
        StopNodes => "S",
        NodesStopped => "s",
        _ => throw new ArgumentException($"ControlSerializer cannot serialise {o.GetType()}."),
    };

    public override byte[] ToBinary(object obj)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        switch (obj)
        {
            case Connect c: WriteRefs(w, c.Nodes); WriteRefs(w, c.Posts); break;
            case StepDone d: WriteStepDone(w, d); break;
            case StepsDone b:
                w.Write(b.Reports.Length);
                foreach (var d in b.Reports) WriteStepDone(w, d);
                break;
            case Fanout f: WriteFanout(w, f); break;
            case NodeFailed f: w.Write(f.Node); w.Write(f.Step); w.Write(f.Reason); break;
            case GetParameters: break;
            case Parameters p: w.Write(p.Layer); WriteFloats(w, p.Weight); WriteFloats(w, p.Bias); break;
            case HostNodes h:
                w.Write(h.RunId); RecipeFormat.Write(w, h.Recipe);
                w.Write(h.Nodes.Length); foreach (var n in h.Nodes) w.Write(n);
                w.Write(Serialization.SerializedActorPath(h.Driver)); w.Write(h.FrameBytes); WriteOptional(w, h.TracesPath);
                break;
            case NodesHosted n: w.Write(n.RunId); WriteRefs(w, n.Nodes); w.Write(Serialization.SerializedActorPath(n.Post)); break;
            case HostingFailed e: w.Write(e.RunId); w.Write(e.Role); w.Write(e.Reason); break;
            case StopNodes s: w.Write(s.RunId); break;
            case NodesStopped s: w.Write(s.RunId); break;
            default: throw new ArgumentException($"ControlSerializer cannot serialise {obj.GetType()}.");
        }
        w.Flush();
        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        return manifest switch
        {
            "C" => new Connect(ReadRefs(r)) { Posts = ReadRefs(r) },
            "D" => ReadStepDone(r),
            "d" => new StepsDone([.. Enumerable.Range(0, r.ReadInt32()).Select(_ => ReadStepDone(r))]),
            "F" => ReadFanout(r),
            "X" => new NodeFailed(r.ReadString(), r.ReadInt64(), r.ReadString()),
            "G" => new GetParameters(),
            "W" => new Parameters(r.ReadString(), ReadFloats(r), ReadFloats(r)),
            "H" => ReadHostNodes(r),
            "N" => new NodesHosted(r.ReadString(), ReadRefs(r), Resolve(r.ReadString())),
            "E" => new HostingFailed(r.ReadString(), r.ReadString(), r.ReadString()),
            "S" => new StopNodes(r.ReadString()),
            "s" => new NodesStopped(r.ReadString()),
            _ => throw new ArgumentException($"ControlSerializer: unknown manifest '{manifest}'."),
        };
    }

    private static void WriteStepDone(BinaryWriter w, StepDone d)
    {
        w.Write(d.Layer); w.Write(d.Step); w.Write(d.Loss);
        w.Write(d.ReferenceStep.HasValue); w.Write(d.ReferenceStep ?? 0);
    }

    /// <summary>The targets, then the message as its own serializer writes it (its id and manifest first).</summary>
    private void WriteFanout(BinaryWriter w, Fanout f)
    {
        w.Write(f.Targets.Length);
        foreach (var t in f.Targets) w.Write(t);
        var serializer = system.Serialization.FindSerializerFor(f.Message);
        byte[] bytes = serializer.ToBinary(f.Message);
        w.Write(serializer.Identifier);
        w.Write(Akka.Serialization.Serialization.ManifestFor(serializer, f.Message));
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private Fanout ReadFanout(BinaryReader r)
    {
        var targets = ImmutableArray.CreateRange(Enumerable.Range(0, r.ReadInt32()).Select(_ => r.ReadString()));
        int serializer = r.ReadInt32();
        string manifest = r.ReadString();
        int length = r.ReadInt32();
        byte[] bytes = r.ReadBytes(length);
        if (bytes.Length != length) throw new InvalidDataException($"ControlSerializer: a fanout's message of {length} bytes truncated after {bytes.Length}.");
        if (system.Serialization.Deserialize(bytes, serializer, manifest) is not Protocol.ISimMessage message)
            throw new InvalidDataException($"ControlSerializer: a fanout carries a '{manifest}' that is not a simulator message.");
        return new Fanout(targets, message);
    }

    private static StepDone ReadStepDone(BinaryReader r)
    {
        string layer = r.ReadString();
        long step = r.ReadInt64();
        double loss = r.ReadDouble();
        bool hasReference = r.ReadBoolean();
        long reference = r.ReadInt64();
        return new StepDone(layer, step, loss, hasReference ? reference : null);
    }

    private HostNodes ReadHostNodes(BinaryReader r)
    {
        string runId = r.ReadString();
        var recipe = RecipeFormat.Read(r);
        int count = r.ReadInt32();
        var nodes = ImmutableArray.CreateBuilder<string>(count);
        for (int i = 0; i < count; i++) nodes.Add(r.ReadString());
        var driver = Resolve(r.ReadString());
        return new HostNodes(runId, recipe, nodes.MoveToImmutable(), driver, r.ReadInt64(), ReadOptional(r));
    }

    private static void WriteRefs(BinaryWriter w, ImmutableDictionary<string, IActorRef> refs)
    {
        w.Write(refs.Count);
        foreach (var (name, actor) in refs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.Write(name);
            w.Write(Serialization.SerializedActorPath(actor));
        }
    }

    private ImmutableDictionary<string, IActorRef> ReadRefs(BinaryReader r)
    {
        int count = r.ReadInt32();
        var refs = ImmutableDictionary.CreateBuilder<string, IActorRef>();
        for (int i = 0; i < count; i++) refs[r.ReadString()] = Resolve(r.ReadString());
        return refs.ToImmutable();
    }

    private IActorRef Resolve(string path) => system.Provider.ResolveActorRef(path);

    private static void WriteFloats(BinaryWriter w, ImmutableArray<float> values)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Parameters travel as little-endian float32.");
        w.Write(values.Length);
        w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static ImmutableArray<float> ReadFloats(BinaryReader r)
    {
        int count = r.ReadInt32();
        var values = new float[count];
        int read = r.Read(MemoryMarshal.AsBytes(values.AsSpan()));
        if (read != count * sizeof(float))
            throw new InvalidDataException($"ControlSerializer: parameters of {count} floats truncated after {read} bytes.");
        return ImmutableCollectionsMarshal.AsImmutableArray(values);
    }

    private static void WriteOptional(BinaryWriter w, string? text)
    {
        w.Write(text is not null);
        if (text is not null) w.Write(text);
    }

    private static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    /// <summary>HOCON that binds this serializer to the control and hosting messages.</summary>
    public static string Config => $$"""
        akka.actor {
          serializers.plastic-control = "{{typeof(ControlSerializer).AssemblyQualifiedName}}"
          serialization-bindings {
            {{string.Join("\n    ", new[] { typeof(Connect), typeof(StepDone), typeof(StepsDone), typeof(Fanout), typeof(NodeFailed), typeof(GetParameters), typeof(Parameters),
                typeof(HostNodes), typeof(NodesHosted), typeof(HostingFailed), typeof(StopNodes), typeof(NodesStopped) }.Select(t => $"\"{t.AssemblyQualifiedName}\" = plastic-control"))}}
          }
        }
        """;
}
