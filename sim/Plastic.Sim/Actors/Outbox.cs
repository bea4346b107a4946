using System.Collections.Immutable;
using Akka.Actor;
using Plastic.Compute;
using Plastic.Sim.Protocol;
using Plastic.Sim.Tracing;

namespace Plastic.Sim.Actors;

/// <summary>
/// The one way a node sends to another: every message is checked against the graph's wiring before
/// it leaves (an undeclared kind is refused), and against the node's send policy (over a cluster: the remote
/// frame limit, so that a message Akka.Remote would drop is refused loudly), and counted per edge and kind.
/// </summary>
internal sealed class Outbox(string node, Wiring wiring, ISendPolicy? policy = null)
{
    private ImmutableDictionary<string, IActorRef> _nodes = ImmutableDictionary<string, IActorRef>.Empty;
    private ImmutableDictionary<string, IActorRef> _posts = ImmutableDictionary<string, IActorRef>.Empty;

    public void Connect(Connect connect)
    {
        _nodes = connect.Nodes;
        _posts = connect.Posts;
    }

    public IEnumerable<string> Targets(MessageKind kind) => wiring.Targets(node, kind);

    public void Send(string target, ISimMessage message) => Checked(target, message).Tell(message);

    /// <summary>The target's actor, once the message passed the wiring and the send policy for it; counted as sent to it.</summary>
    private IActorRef Checked(string target, ISimMessage message)
    {
        wiring.Check(node, target, message.Kind);
        if (!_nodes.TryGetValue(target, out var actor))
            throw new InvalidOperationException($"Node '{node}' has no actor for node '{target}'; was Connect sent?");
        (policy ?? InProcessSends.Instance).Check(message, target, actor);
        SimTelemetry.CountSend(node, target, message.Kind, message.Bytes);
        return actor;
    }

    /// <summary>
    /// The payload of a tensor this node sends as <paramref name="kind"/>. When the message has exactly one
    /// target, an actor of this process: a copy that stays on the device for a device backend (its layer shares
    /// the device: one process opens one device per kind), a pooled host array that the receiver gives back for
    /// the CPU backend. One target in another process: straight into the tensor lanes' shared memory where the
    /// send policy has room there (the receiver, on this host, copies it from there into its tensor; elsewhere,
    /// the lane sends it from there), else a pooled host array that the tensor lane gives back once it has
    /// written it (with a new large array every message, 2.5 % of a sending worker's time went to the kernel
    /// clearing fresh pages for it: perf, 2026-12-04). A new host copy for several receivers.
    /// </summary>
    public TensorPayload Payload(MessageKind kind, Tensor tensor)
    {
        var backend = tensor.Backend;
        if (Targets(kind).Take(2).ToList() is not [var target] || !_nodes.TryGetValue(target, out var actor))
            return TensorPayload.From(tensor);
        if (actor is not IInternalActorRef { IsLocal: true }) return policy?.Place(tensor, actor) ?? TensorPayload.Lent(tensor);
        if (!backend.FreesOnDispose) return TensorPayload.Lent(tensor);
        using var kept = TensorKinds.Use(TensorKind.Activations);
        var copy = backend.Allocate(tensor.Shape);
        backend.Copy(tensor, copy);
        return TensorPayload.OnDevice(copy);
    }

    /// <summary>
    /// Sends to every node this one's edges declare for the message's kind. A message without tensors for several
    /// nodes of one other process (the pairing, to a worker's layers) goes once, to their run's post there, which
    /// hands it to each; every target is checked and counted as if sent to it alone.
    /// </summary>
    public void SendToAll(ISimMessage message)
    {
        var targets = Targets(message.Kind);
        if (_posts.IsEmpty || message.Tensors.Any())
        {
            foreach (var target in targets) Send(target, message);
            return;
        }
        foreach (var group in targets.GroupBy(t => _posts.GetValueOrDefault(t)))
        {
            var names = group.ToImmutableArray();
            if (group.Key is not { } post || names.Length < 2)
            {
                foreach (var target in names) Send(target, message);
                continue;
            }
            foreach (var target in names) Checked(target, message);
            post.Tell(new Distributed.Fanout(names, message));
        }
    }
}

/// <summary>A tensor kept from step to step and reallocated only when the shape it must hold changes.</summary>
internal sealed class TensorSlot(IComputeBackend backend, TensorKind kind = TensorKind.Scratch) : IDisposable
{
    private Tensor? _tensor;

    public Tensor For(Shape shape)
    {
        if (_tensor?.Shape == shape) return _tensor;
        _tensor?.Dispose();
        using var tagged = TensorKinds.Use(kind);
        return _tensor = backend.Allocate(shape);
    }

    /// <summary>
    /// Puts a payload into the slot: takes its array as the slot's tensor where the payload can hand it over (a lent
    /// array, a host backend: no copy), else uploads it into the slot's tensor, reshaped as needed.
    /// </summary>
    public Tensor Load(TensorPayload payload)
    {
        using (TensorKinds.Use(kind))
            if (payload.HandOver(backend, replacing: _tensor) is { } taken)
                return _tensor = taken;
        if (_tensor is { IsDisposed: true }) _tensor = null; // replaced, but the backend kept no host array: allocate
        var tensor = For(payload.Shape);
        payload.CopyTo(backend, tensor);
        return tensor;
    }

    /// <summary>Frees the tensor until the next <see cref="For"/> or <see cref="Load"/>.</summary>
    public void Release()
    {
        _tensor?.Dispose();
        _tensor = null;
    }

    public void Dispose() => _tensor?.Dispose();
}
