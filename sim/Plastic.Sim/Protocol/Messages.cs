using System.Collections.Immutable;

namespace Plastic.Sim.Protocol;

/// <summary>What a message is, as far as locality is concerned: edges declare which kinds they may carry.</summary>
public enum MessageKind
{
    /// <summary>Bottom-up activations (both views of a minibatch).</summary>
    Forward,
    /// <summary>The step's pairing: which sample is each sample's negative. A global modulatory signal, shared by all layers.</summary>
    Pairing,
    /// <summary>A top-down reference (the top layer's pooled activity, other view) on a declared direct-feedback edge.</summary>
    TopDownReference,
    /// <summary>An error gradient flowing down: only the backprop graph declares it.</summary>
    Backward,
    /// <summary>
    /// An instrument's copy of a layer's parameters (weights, bias, the rule's own state such as B),
    /// sent to the alignment monitor: measurement traffic, not learning traffic, so it is excluded
    /// from the locality verdict.
    /// </summary>
    Snapshot,
}

/// <summary>
/// The trace context carried inside a message (W3C traceparent, empty when tracing is off), because
/// Activity.Current does not flow across an actor's mailbox, and the time it was sent (Unix
/// microseconds, UTC) so that the receiver can record the latency.
/// </summary>
public sealed record TraceContext(string TraceParent, long SentAtMicros = 0)
{
    public static readonly TraceContext None = new("");
}

/// <summary>Every message between simulator nodes: the sending node, the step it belongs to, and the trace context.</summary>
public interface ISimMessage
{
    string From { get; }
    long Step { get; }
    MessageKind Kind { get; }
    TraceContext Trace { get; }
    /// <summary>Payload bytes, for the traffic counters.</summary>
    long Bytes { get; }
    /// <summary>The tensors the message carries (none for a pairing).</summary>
    IEnumerable<TensorPayload> Tensors { get; }
}

/// <summary>Activations sent up: the two views of the step's minibatch stacked as [2N, ...] (view 1 first).</summary>
public sealed record Forward(string From, long Step, TensorPayload Activations, TraceContext Trace) : ISimMessage
{
    public MessageKind Kind => MessageKind.Forward;
    public long Bytes => Activations.Bytes;
    public IEnumerable<TensorPayload> Tensors => [Activations];
}

/// <summary>The step's pairing, broadcast to every layer: row r's negative is row Negatives[r] of the stacked 2N rows.</summary>
public sealed record Pairing(string From, long Step, ImmutableArray<int> Negatives, TraceContext Trace) : ISimMessage
{
    public MessageKind Kind => MessageKind.Pairing;
    public long Bytes => (long)Negatives.Length * sizeof(int);
    public IEnumerable<TensorPayload> Tensors => [];

    // ImmutableArray compares by reference; two pairings are the same when their indices are.
    public bool Equals(Pairing? other) =>
        other is not null && From == other.From && Step == other.Step && Trace == other.Trace && Negatives.SequenceEqual(other.Negatives);

    public override int GetHashCode() => HashCode.Combine(From, Step, Negatives.Length);
}

/// <summary>The top layer's (pooled) activity for the step, sent down a declared direct-feedback edge.</summary>
public sealed record TopDownReference(string From, long Step, TensorPayload Reference, TraceContext Trace) : ISimMessage
{
    public MessageKind Kind => MessageKind.TopDownReference;
    public long Bytes => Reference.Bytes;
    public IEnumerable<TensorPayload> Tensors => [Reference];
}

/// <summary>dL/d(output of the receiving layer) for the step: the backprop graph's downward message.</summary>
public sealed record Backward(string From, long Step, TensorPayload Gradient, TraceContext Trace) : ISimMessage
{
    public MessageKind Kind => MessageKind.Backward;
    public long Bytes => Gradient.Bytes;
    public IEnumerable<TensorPayload> Tensors => [Gradient];
}

/// <summary>
/// A layer's parameters as they were for step <see cref="ISimMessage.Step"/>'s forward pass, before its
/// update: weights, bias (empty payload when none) and the rule's own state (its B matrices), for
/// the alignment monitor. Nothing learns from it.
/// </summary>
public sealed record Snapshot(string From, long Step, TensorPayload Weight, TensorPayload? Bias, ImmutableArray<TensorPayload> RuleState, TraceContext Trace) : ISimMessage
{
    public MessageKind Kind => MessageKind.Snapshot;
    public long Bytes => Tensors.Sum(t => t.Bytes);
    public IEnumerable<TensorPayload> Tensors => [Weight, .. Bias is null ? [] : new[] { Bias }, .. RuleState];

    public bool Equals(Snapshot? other) =>
        other is not null && From == other.From && Step == other.Step && Trace == other.Trace && Weight.Equals(other.Weight)
        && Equals(Bias, other.Bias) && RuleState.SequenceEqual(other.RuleState);

    public override int GetHashCode() => HashCode.Combine(From, Step, RuleState.Length);
}
