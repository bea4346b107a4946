using System.Collections.Immutable;
using Akka.Actor;

namespace Plastic.Sim.Actors;

// Messages that set up and supervise a run. They travel between the run's driver and its nodes,
// never between layers, so the locality contracts do not apply to them.

/// <summary>Tells a node the actor of every other node it may address, once, before the first step.</summary>
public sealed record Connect(ImmutableDictionary<string, IActorRef> Nodes);

/// <summary>
/// A node finished step <paramref name="Step"/>: its update is applied. Loss is its local loss (NaN
/// for none); ReferenceStep is the step of the top-down reference its rule used, if any.
/// </summary>
public sealed record StepDone(string Layer, long Step, double Loss, long? ReferenceStep = null);

/// <summary>A node could not go on: the run stops with the node, the step and the reason.</summary>
public sealed record NodeFailed(string Node, long Step, string Reason);

/// <summary>Asks a layer for a copy of its parameters (weights, then bias), for checkpoints and tests.</summary>
public sealed record GetParameters;

/// <summary>A layer's parameters at the time of asking.</summary>
public sealed record Parameters(string Layer, ImmutableArray<float> Weight, ImmutableArray<float> Bias);
