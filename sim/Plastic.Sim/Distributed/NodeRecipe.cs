using Plastic.Topology;

namespace Plastic.Sim.Distributed;

/// <summary>
/// What a worker needs to build some of a run's nodes exactly as the driver's process would: the spec,
/// the run's options themselves, what the plan derived from them (snapshot interval, monitoring, first
/// step, the resumed checkpoint) and the backend to put it on. Plain data, because it crosses processes:
/// a node is built from (spec, seed, layer) on the worker, never shipped as an object. Rules are the
/// catalogue's, by name (a custom rule factory cannot travel).
/// </summary>
public sealed record NodeRecipe(
    string SpecJson,
    RunOptions Options,
    int SnapshotEvery,
    bool Monitored,
    long FirstStep,
    long? ResumedStep,
    string? Device,
    int? Threads)
{
    public NetworkSpec Spec() => NetworkSpecJson.Parse(SpecJson, "the driver's spec");
}
