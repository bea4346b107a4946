using Plastic.Compute;

namespace Plastic.Rules.Catalogue;

/// <summary>
/// What a rule is made from: its name with options, the layer it learns for, and only what that layer
/// knows locally (its features, its loss pool, the feedback edges that touch it). The run builds one per
/// layer; a rule sees nothing of the network beyond this.
/// </summary>
public sealed record RuleContext(string Rule, string Layer, IComputeBackend Backend, RandomStream Init, AdamWSettings Optimizer, LayerFeatures Features, FeedbackLinks Feedback);

/// <summary>
/// The layer's output as a loss sees it: its channels (what global pooling leaves of a conv layer), its
/// loss-pooled features flattened, the loss pool's size, and whether it is a conv layer.
/// </summary>
public sealed record LayerFeatures(int Channels, int LossFeatures, int? LossPool, bool IsConv)
{
    /// <summary>
    /// D_z of a contrastive loss on this layer: its channels under global pooling (conv layers), else its
    /// loss-pooled features. Every loss built on a layer (its rule, the backprop loss, the meter's) sizes B by it.
    /// </summary>
    public int ContrastiveSize(bool globalPool) => globalPool && IsConv ? Channels : LossFeatures;
}

/// <summary>
/// The direct-feedback edges at a layer: how many arrive, the size of the reference the first carries
/// (the sender's loss features), and whether this layer sends references itself (the top).
/// </summary>
public sealed record FeedbackLinks(int Incoming, int? ReferenceFeatures, bool Sends)
{
    public static FeedbackLinks None { get; } = new(0, null, false);
}
