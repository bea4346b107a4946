using Akka.Actor;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Actors;

/// <summary>
/// A check every message passes in the outbox before it leaves a node, beside the wiring's: what the
/// transport to its target can carry. A node's actor is handed its policy by whoever builds it (the
/// driver, or a cluster worker's host), so actors know nothing of the transport.
/// </summary>
public interface ISendPolicy
{
    /// <summary>Throws if <paramref name="message"/> must not be sent to <paramref name="to"/> (at <paramref name="target"/>).</summary>
    void Check(ISimMessage message, string to, IActorRef target);

    /// <summary>
    /// A payload for a tensor to <paramref name="target"/> alone, placed where this transport carries it from
    /// (a tensor lane's shared memory); null when the transport has no such place for it.
    /// </summary>
    TensorPayload? Place(Plastic.Compute.Tensor tensor, IActorRef target) => null;
}

/// <summary>The policy of a node whose messages never leave its process: every message may go.</summary>
public sealed class InProcessSends : ISendPolicy
{
    public static InProcessSends Instance { get; } = new();

    public void Check(ISimMessage message, string to, IActorRef target) { }
}
