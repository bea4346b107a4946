using Plastic.Compute;
using Plastic.Rules.Catalogue;
using Plastic.Topology;

namespace Plastic.Sim;

/// <summary>What the rule catalogue is told of a layer of a spec: its own features and the feedback edges that touch it, nothing else.</summary>
public static class RuleContexts
{
    public static RuleContext For(NetworkSpec spec, LayerShape shape, IComputeBackend backend, RandomStream init, AdamWSettings optimizer) =>
        new(spec.RuleOf(shape.Layer), shape.Layer.Name, backend, init, optimizer, Features(shape), Feedback(spec, shape.Layer.Name));

    public static LayerFeatures Features(LayerShape shape) =>
        new(shape.Output.Channels, shape.LossFeatures.Size, shape.Layer.LossPool, shape.Layer.Kind == LayerKind.Conv);

    /// <summary>The edges into and out of a layer; the reference a first incoming edge carries is its sender's loss features.</summary>
    public static FeedbackLinks Feedback(NetworkSpec spec, string layer)
    {
        var incoming = spec.Feedback.Where(e => e.To == layer).ToList();
        bool sends = spec.Feedback.Any(e => e.From == layer);
        if (incoming.Count == 0) return new FeedbackLinks(0, null, sends);
        int sender = spec.Layers.Select((l, i) => (l, i)).Single(x => x.l.Name == incoming[0].From).i;
        return new FeedbackLinks(incoming.Count, NetworkValidator.Validate(spec)[sender].LossFeatures.Size, sends);
    }
}
