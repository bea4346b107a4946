using System.Collections.Immutable;
using Akka.Actor;

namespace Plastic.Sim.Distributed;

// Messages between a run's driver and the node hosts of its cluster workers. Like the control messages,
// they set a run up and take it down; none of them carries learning traffic.

/// <summary>
/// Build and start these nodes of run <paramref name="RunId"/> from the recipe; they report to
/// <paramref name="Driver"/> (the run's input node). Spans go to <paramref name="TracesPath"/> when given.
/// <paramref name="FrameBytes"/> is the driver's remote frame limit; a host with a smaller one refuses.
/// </summary>
public sealed record HostNodes(string RunId, NodeRecipe Recipe, ImmutableArray<string> Nodes, IActorRef Driver, long FrameBytes, string? TracesPath);

/// <summary>The nodes a host started for a run, by name, and the run's post there (<see cref="RunPost"/>).</summary>
public sealed record NodesHosted(string RunId, ImmutableDictionary<string, IActorRef> Nodes, IActorRef Post);

/// <summary>A host could not build the nodes it was asked for: the role and the reason.</summary>
public sealed record HostingFailed(string RunId, string Role, string Reason);

/// <summary>Stop every node of run <paramref name="RunId"/> (the run ended, or failed elsewhere); answered with <see cref="NodesStopped"/>.</summary>
public sealed record StopNodes(string RunId);

/// <summary>The host stopped a run's nodes and flushed their spans to its traces file.</summary>
public sealed record NodesStopped(string RunId);

/// <summary>
/// A worker hosting nodes of the run left the cluster or stopped answering: the driver's membership
/// watch tells the input node, which ends the run with this, the nodes lost and the last completed step.
/// </summary>
public sealed record WorkerLost(string Role, string Address, ImmutableArray<string> Nodes, string How);
