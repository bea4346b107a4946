using System.Collections.Immutable;
using Akka.Actor;

namespace Plastic.Sim.Actors;

// Messages that set up and supervise a run. They travel between the run's driver and its nodes,
// never between layers, so the locality contracts do not apply to them.

/// <summary>Tells a node the actor of every other node it may address, once, before the first step.</summary>
public sealed record Connect(ImmutableDictionary<string, IActorRef> Nodes)
{
    /// <summary>
    /// For a node a cluster worker hosts, the post of its run on that worker (<see cref="Distributed.RunPost"/>):
    /// a message without tensors for several nodes of one worker goes to their post once. Empty in one process.
    /// </summary>
    public ImmutableDictionary<string, IActorRef> Posts { get; init; } = ImmutableDictionary<string, IActorRef>.Empty;
}

/// <summary>
/// A node finished step <paramref name="Step"/>: its update is applied. Loss is its local loss (NaN
/// for none); ReferenceStep is the step of the top-down reference its rule used, if any.
/// </summary>
public sealed record StepDone(string Layer, long Step, double Loss, long? ReferenceStep = null);

/// <summary>
/// The reports of one step from every node a cluster worker hosts, sent by the run's post there once the last of
/// them finished it: one message across processes a step instead of one a node.
/// </summary>
public sealed record StepsDone(ImmutableArray<StepDone> Reports)
{
    // ImmutableArray compares by reference; two batches are the same when their reports are.
    public bool Equals(StepsDone? other) => other is not null && Reports.SequenceEqual(other.Reports);

    public override int GetHashCode() => Reports.Length;
}

/// <summary>A node could not go on: the run stops with the node, the step and the reason.</summary>
public sealed record NodeFailed(string Node, long Step, string Reason);

/// <summary>Asks a layer for a copy of its parameters (weights, then bias), for checkpoints and tests.</summary>
public sealed record GetParameters;

/// <summary>A layer's parameters at the time of asking.</summary>
public sealed record Parameters(string Layer, ImmutableArray<float> Weight, ImmutableArray<float> Bias);
