using System.Collections.Immutable;
using Plastic.Compute;
using Plastic.Sim.Negatives;

namespace Plastic.Sim.Distributed;

/// <summary>A node recipe, its run options field by field, in the control serializer's binary form.</summary>
internal static class RecipeFormat
{
    public static void Write(BinaryWriter w, NodeRecipe n)
    {
        w.Write(n.SpecJson);
        WriteOptions(w, n.Options);
        w.Write(n.SnapshotEvery); w.Write(n.Monitored); w.Write(n.FirstStep);
        w.Write(n.ResumedStep.HasValue); w.Write(n.ResumedStep ?? 0);
        WriteOptional(w, n.Device);
        w.Write(n.Threads.HasValue); w.Write(n.Threads ?? 0);
    }

    public static NodeRecipe Read(BinaryReader r)
    {
        string spec = r.ReadString();
        var options = ReadOptions(r);
        int snapshotEvery = r.ReadInt32();
        bool monitored = r.ReadBoolean();
        long firstStep = r.ReadInt64();
        bool resumed = r.ReadBoolean(); long resumedStep = r.ReadInt64();
        string? device = ReadOptional(r);
        bool hasThreads = r.ReadBoolean(); int threads = r.ReadInt32();
        return new NodeRecipe(spec, options, snapshotEvery, monitored, firstStep, resumed ? resumedStep : null, device, hasThreads ? threads : null);
    }

    private static void WriteOptions(BinaryWriter w, RunOptions o)
    {
        w.Write(o.Steps); w.Write(o.BatchSize); w.Write(o.Seed); w.Write((int)o.Graph); w.Write((int)o.Negatives);
        w.Write(o.Schedule.MaxInFlight); w.Write(o.Schedule.Staleness);
        var layerSteps = o.Schedule.LayerSteps.IsDefault ? [] : o.Schedule.LayerSteps;
        w.Write(layerSteps.Length);
        foreach (long s in layerSteps) w.Write(s);
        var a = o.Optimizer;
        w.Write(a.LearningRate); w.Write(a.Beta1); w.Write(a.Beta2); w.Write(a.Epsilon); w.Write(a.WeightDecay);
        w.Write(o.Instruments.AlignEvery); w.Write(o.Instruments.ObserveEvery);
        w.Write(o.Checkpoints.Every); WriteOptional(w, o.Checkpoints.Directory); w.Write(o.Checkpoints.Resume); WriteOptional(w, o.Checkpoints.Tag); w.Write(o.Checkpoints.Keep); w.Write(o.Faults);
    }

    private static RunOptions ReadOptions(BinaryReader r)
    {
        long steps = r.ReadInt64(); int batch = r.ReadInt32(); ulong seed = r.ReadUInt64();
        var graph = (GraphKind)r.ReadInt32(); var negatives = (NegativeSampling)r.ReadInt32();
        int inFlight = r.ReadInt32(), staleness = r.ReadInt32();
        var layerSteps = ImmutableArray.CreateBuilder<long>(r.ReadInt32());
        for (int i = 0; i < layerSteps.Capacity; i++) layerSteps.Add(r.ReadInt64());
        var optimizer = new AdamWSettings(r.ReadSingle(), r.ReadSingle(), r.ReadSingle(), r.ReadSingle(), r.ReadSingle());
        var instruments = new InstrumentOptions(r.ReadInt32(), r.ReadInt32());
        var checkpoints = new CheckpointOptions(r.ReadInt32(), ReadOptional(r), r.ReadBoolean(), ReadOptional(r)) { Keep = r.ReadInt32() };
        string faults = r.ReadString();
        return new RunOptions(steps, batch, seed, graph)
        {
            Negatives = negatives,
            Schedule = new ScheduleOptions(inFlight, staleness, layerSteps.Count == 0 ? default : layerSteps.MoveToImmutable()),
            Optimizer = optimizer,
            Instruments = instruments,
            Checkpoints = checkpoints,
            Faults = faults,
        };
    }

    private static void WriteOptional(BinaryWriter w, string? text)
    {
        w.Write(text is not null);
        if (text is not null) w.Write(text);
    }

    private static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}
