using Akka.Actor;
using Plastic.Sim.Actors;
using Plastic.Sim.Distributed.Lanes;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim.Distributed;

/// <summary>
/// Akka.Remote's frame limit, sized for a run and enforced before sending. Left alone, Akka.Remote drops
/// a message over its maximum-frame-size (default 128,000 bytes) and only logs it, and a run would then
/// wait forever for a step that never comes; here the limit is set from the largest message the spec can
/// send, and a message that is still too large stops the run with its size and the limit.
/// </summary>
public static class RemoteFrames
{
    public const string FrameSizeKey = "akka.remote.dot-netty.tcp.maximum-frame-size";

    /// <summary>Room for a message's envelope and its non-tensor fields (names, step, trace context).</summary>
    public const long EnvelopeBytes = 64 * 1024;

    /// <summary>The remote frame limit of an actor system, or null when it has no remoting.</summary>
    public static long? LimitOf(ActorSystem system)
    {
        var config = system.Settings.Config;
        if (!config.HasPath("akka.actor.provider") || !config.GetString("akka.actor.provider").Contains("Cluster", StringComparison.OrdinalIgnoreCase)
            && !config.GetString("akka.actor.provider").Contains("Remote", StringComparison.OrdinalIgnoreCase))
            return null;
        return config.HasPath(FrameSizeKey) ? config.GetByteSize(FrameSizeKey) : null;
    }

    /// <summary>
    /// An upper bound on the bytes of the largest message a run of this spec sends: activations and
    /// gradients (both views), top-down references, parameter replies and, when the run is monitored
    /// (alignment or an online probe), parameter snapshots with up to two B matrices of the loss
    /// features; plus the envelope.
    /// </summary>
    public static long LargestMessageBytes(NetworkSpec spec, int batch, bool snapshots)
    {
        var shapes = NetworkValidator.Validate(spec);
        long samples = 2L * batch;
        long largest = samples * spec.Input.Channels * spec.Input.Height * spec.Input.Width;
        foreach (var s in shapes)
        {
            long features = Math.Max(s.LossFeatures.Size, s.Output.Channels);
            largest = Math.Max(largest, samples * Math.Max(s.Input.Size, s.Output.Size));
            largest = Math.Max(largest, s.Weights + s.Layer.Width + (snapshots ? 2 * features * features : 0));
        }
        return largest * sizeof(float) + EnvelopeBytes;
    }

    /// <summary>The send policy for the nodes of <paramref name="system"/>: its frame limit when it has remoting, else none.</summary>
    public static ISendPolicy PolicyOf(ActorSystem system) => LimitOf(system) is { } limit ? new RemoteFramePolicy(limit, TensorLanes.Of(system)) : InProcessSends.Instance;
}

/// <summary>
/// Refuses a message to a node in another process that is over the remote frame limit (local targets always
/// fit). Tensors that go on tensor lanes are not in the frame: only the rest counts.
/// </summary>
public sealed class RemoteFramePolicy(long limit, TensorLanes? lanes = null) : ISendPolicy
{
    public void Check(ISimMessage message, string to, IActorRef target)
    {
        if (target.Path.Address.HasLocalScope) return;
        long onLanes = lanes is null ? 0 : message.Tensors.Where(lanes.Carries).Sum(t => t.Bytes);
        long size = message.Bytes - onLanes + RemoteFrames.EnvelopeBytes;
        if (size > limit)
            throw new RemoteFrameTooLargeException(
                $"{message.Kind} of step {message.Step} from '{message.From}' to '{to}' ({target.Path.Address}) is about {size:N0} bytes, over the remote frame limit of {limit:N0} bytes " +
                $"({RemoteFrames.FrameSizeKey}); Akka.Remote would drop it. Raise the limit (plastic node --frame-bytes, or the driver's cluster settings) or place '{message.From}' and '{to}' in one process.");
    }

    /// <summary>A tensor to a node in another process goes off the backend straight into the lanes' shared memory.</summary>
    public TensorPayload? Place(Plastic.Compute.Tensor tensor, IActorRef target) =>
        target.Path.Address.HasLocalScope ? null : lanes?.Place(tensor);
}

/// <summary>A message too large for the remote transport's frame limit: refused before it is sent.</summary>
public sealed class RemoteFrameTooLargeException(string message) : Exception(message);
