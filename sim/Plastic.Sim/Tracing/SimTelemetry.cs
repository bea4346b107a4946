using Plastic.Compute;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Tracing;

/// <summary>
/// The simulator's ActivitySource and Meter ("Plastic.Sim"): a span per handled message, linked to
/// the sender's span through the trace context inside the message, and counters of messages and
/// bytes per edge and kind. Costs nothing measurable when no listener is attached.
/// </summary>
public static class SimTelemetry
{
    public const string Name = "Plastic.Sim";
    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);
    private static readonly Counter<long> Messages = Meter.CreateCounter<long>("plastic.sim.messages", description: "Messages sent, per edge and kind");
    private static readonly Counter<long> Bytes = Meter.CreateCounter<long>("plastic.sim.bytes", unit: "By", description: "Payload bytes sent, per edge and kind");

    // Span tag names, read back by TrafficMatrix.
    public const string NodeTag = "plastic.node", FromTag = "plastic.from", KindTag = "plastic.kind", StepTag = "plastic.step",
        BytesTag = "plastic.bytes", LatencyTag = "plastic.latency_us", ArrivalTag = "plastic.arrival";

    /// <summary>The name an arrival has in the traces (<see cref="ArrivalTag"/>) and in `plastic trace`.</summary>
    public static string ArrivalName(TensorArrival arrival) => arrival switch
    {
        TensorArrival.Frame => "in frames",
        TensorArrival.TcpLane => "on TCP lanes",
        TensorArrival.SharedMemory => "through shared memory",
        _ => "within the process",
    };

    public static long NowMicros() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    /// <summary>The context to put in a message about to be sent: the current span as parent, and now.</summary>
    public static TraceContext Outgoing() => new(Activity.Current?.Id ?? "", NowMicros());

    /// <summary>The tags of the message and byte counters: sending node and receiving node.</summary>
    public const string CounterFromTag = "from", CounterToTag = "to";

    public static void CountSend(string from, string to, MessageKind kind, long bytes)
    {
        var tags = new TagList { { CounterFromTag, from }, { CounterToTag, to }, { "kind", kind.ToString() } };
        Messages.Add(1, tags);
        Bytes.Add(bytes, tags);
    }

    /// <summary>Starts the span of one handled message (null when nobody listens).</summary>
    public static Activity? StartHandling(string node, ISimMessage message)
    {
        ActivityContext.TryParse(message.Trace.TraceParent, null, out var parent);
        var span = Source.StartActivity(message.Kind.ToString(), ActivityKind.Consumer, parent);
        if (span is null) return null;
        span.SetTag(NodeTag, node);
        span.SetTag(FromTag, message.From);
        span.SetTag(KindTag, message.Kind.ToString());
        span.SetTag(StepTag, message.Step);
        span.SetTag(BytesTag, message.Bytes);
        if (message.Trace.SentAtMicros > 0) span.SetTag(LatencyTag, Math.Max(0, NowMicros() - message.Trace.SentAtMicros));
        // How the message's largest tensor came (the bytes that cost): only messages from another process have one.
        if (message.Tensors.MaxBy(t => t.Length) is { Arrival: not TensorArrival.InProcess } largest) span.SetTag(ArrivalTag, ArrivalName(largest.Arrival));
        return span;
    }

    /// <summary>The span tag of a phase span: its name in the step schedule (forward, update, loss, backward).</summary>
    public const string PhaseTag = "plastic.phase";

    /// <summary>
    /// A fault the run recovered from: its node (or lost worker's role) and step, the step the replay
    /// started from, the seconds the failed attempt ran and the seconds until a replacement took over.
    /// </summary>
    public const string FaultSpan = "fault", ReplayedFromTag = "plastic.fault.replayed_from", AttemptSecondsTag = "plastic.fault.attempt_s",
        RecoverSecondsTag = "plastic.fault.recover_s", ReasonTag = "plastic.fault.reason";

    /// <summary>
    /// Starts the span of one phase of a step at a node (null when nobody listens): a child of the span of
    /// the message whose arrival let it run, so a trace shows what each phase waited for.
    /// </summary>
    public static Activity? StartPhase(string node, string phase, long step)
    {
        var span = Source.StartActivity(phase, ActivityKind.Internal);
        if (span is null) return null;
        span.SetTag(NodeTag, node);
        span.SetTag(PhaseTag, phase);
        span.SetTag(StepTag, step);
        return span;
    }

    /// <summary>
    /// <see cref="StartPhase(string, string, long)"/> for a phase that computes on <paramref name="backend"/>:
    /// with PLASTIC_SYNC_PHASES=1 the phase ends only when the device has done its work (<see cref="DeviceTiming"/>).
    /// </summary>
    public static PhaseScope StartPhase(string node, string phase, long step, IComputeBackend backend) =>
        new(StartPhase(node, phase, step), DeviceTiming.Enabled ? backend : null);

    /// <summary>The root span of one step, started by the input node.</summary>
    public static Activity? StartStep(long step)
    {
        var span = Source.StartActivity("step", ActivityKind.Producer, default(ActivityContext));
        span?.SetTag(StepTag, step);
        span?.SetTag(NodeTag, GraphWiring.InputNode);
        return span;
    }
}
