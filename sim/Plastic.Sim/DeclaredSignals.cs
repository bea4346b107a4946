using Plastic.Rules;
using Plastic.Sim.Protocol;

namespace Plastic.Sim;

/// <summary>
/// A rule may only ask for signals that the graph declares for its layer: asking for a top-down reference
/// without a direct-feedback edge is a request for non-local information, refused before the run starts.
/// </summary>
internal static class DeclaredSignals
{
    public static void Check(string layer, ILocalRule rule, Wiring wiring)
    {
        if (rule.Needs.HasFlag(RuleSignals.TopDownReference) && !wiring.Edges.Any(e => e.To == layer && e.Allows.Contains(MessageKind.TopDownReference)))
            throw new LocalityViolationException($"Layer '{layer}': rule '{rule.Name}' needs a top-down reference, but no direct-feedback edge to '{layer}' is declared; declare one in the spec's feedback edges.");
        if (rule.Needs.HasFlag(RuleSignals.Pairing) && !wiring.Allows(GraphWiring.InputNode, layer, MessageKind.Pairing))
            throw new LocalityViolationException($"Layer '{layer}': rule '{rule.Name}' needs the pairing, which this graph does not send to it.");
    }
}
