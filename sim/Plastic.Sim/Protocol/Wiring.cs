using System.Collections.Immutable;

namespace Plastic.Sim.Protocol;

/// <summary>A directed edge between two nodes and the message kinds it may carry.</summary>
public sealed record EdgeContract(string From, string To, ImmutableHashSet<MessageKind> Allows)
{
    public override string ToString() => $"{From} -> {To} [{string.Join(", ", Allows.Order())}]";
}

/// <summary>A message that no declared edge allows was sent or received.</summary>
public sealed class LocalityViolationException(string message) : Exception(message);

/// <summary>
/// The declared edges of one graph. Every send and every receipt is checked against it: a message
/// of a kind its edge does not declare (a gradient in a local graph, anything up a feedback-only
/// edge) is refused with an error naming the edge and the kind.
/// </summary>
public sealed class Wiring
{
    private readonly Dictionary<(string From, string To), EdgeContract> _edges;

    public Wiring(IEnumerable<EdgeContract> edges)
    {
        _edges = [];
        foreach (var e in edges)
        {
            if (_edges.TryGetValue((e.From, e.To), out var existing))
                _edges[(e.From, e.To)] = existing with { Allows = existing.Allows.Union(e.Allows) };
            else
                _edges[(e.From, e.To)] = e;
        }
    }

    public IReadOnlyCollection<EdgeContract> Edges => _edges.Values;

    public bool Allows(string from, string to, MessageKind kind) =>
        _edges.TryGetValue((from, to), out var e) && e.Allows.Contains(kind);

    /// <summary>Throws unless the edge from -> to is declared and carries <paramref name="kind"/>.</summary>
    public void Check(string from, string to, MessageKind kind)
    {
        if (!_edges.TryGetValue((from, to), out var edge))
            throw new LocalityViolationException($"Locality violation: no edge {from} -> {to} is declared, so it cannot carry {kind}.");
        if (!edge.Allows.Contains(kind))
            throw new LocalityViolationException($"Locality violation: edge {from} -> {to} carries only {string.Join(", ", edge.Allows.Order())}; a {kind} message was refused.");
    }

    public IEnumerable<string> Targets(string from, MessageKind kind) =>
        _edges.Values.Where(e => e.From == from && e.Allows.Contains(kind)).Select(e => e.To);
}
