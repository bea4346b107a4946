using Plastic.Topology;

namespace Plastic.Sim.Distributed;

/// <summary>
/// What a worker needs to build some of a run's nodes exactly as the driver's process would: the spec,
/// the run's options that shape a node, and the backend to put it on. Plain data, because it crosses
/// processes: a node is built from (spec, seed, layer) on the worker, never shipped as an object.
/// Rules are the built-in ones by name (a custom rule factory cannot travel).
/// </summary>
public sealed record NodeRecipe(
    string SpecJson,
    GraphKind Graph,
    ulong Seed,
    float LearningRate,
    float WeightDecay,
    int Staleness,
    int SnapshotEvery,
    bool Monitored,
    long FirstStep,
    string? CheckpointDirectory,
    int CheckpointEvery,
    long? ResumedStep,
    string? Device,
    int? Threads)
{
    public NetworkSpec Spec() => NetworkSpecJson.Parse(SpecJson, "the driver's spec");

    public RunOptions Options() => new(Steps: 0, Seed: Seed, LearningRate: LearningRate, Graph: Graph, Staleness: Staleness,
        CheckpointEvery: CheckpointEvery, CheckpointDirectory: CheckpointDirectory, WeightDecay: WeightDecay);
}
