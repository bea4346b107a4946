namespace Plastic.Rules.Catalogue;

/// <summary>
/// How the contrastive rules are made for a layer. The direct-feedback variants need a feedback edge into
/// the layer; the layer that sends the references (the top) has none and learns with the lateral rule, as
/// in the paper (its second loss in clapp++both is lateral too: the released code's feedback index of the
/// top is the top).
/// </summary>
internal static class ContrastiveRules
{
    public static ILocalRule Lateral(RuleContext c)
    {
        var settings = ContrastiveSettings.Parse(c.Rule).Settings;
        return new LateralRule(c.Backend, c.Features.ContrastiveSize(settings.GlobalPool), c.Features.LossPool, c.Init, c.Optimizer, settings);
    }

    public static ILocalRule DirectFeedback(RuleContext c)
    {
        var settings = CheckFeedback(c);
        int features = c.Features.ContrastiveSize(settings.GlobalPool);
        return c.Feedback.ReferenceFeatures is { } reference
            ? new DirectFeedbackRule(c.Backend, features, reference, c.Features.LossPool, c.Init, c.Optimizer, settings)
            : new LateralRule(c.Backend, features, c.Features.LossPool, c.Init, c.Optimizer, settings);
    }

    public static ILocalRule Both(RuleContext c)
    {
        var settings = CheckFeedback(c);
        return new BothRule(c.Backend, c.Features.ContrastiveSize(settings.GlobalPool), c.Feedback.ReferenceFeatures, c.Features.LossPool, c.Init, c.Optimizer, settings);
    }

    private static ContrastiveSettings CheckFeedback(RuleContext c)
    {
        var (name, settings) = ContrastiveSettings.Parse(c.Rule);
        var feedback = c.Feedback;
        if (feedback.Incoming == 0 && !feedback.Sends)
            throw new ArgumentException($"Layer '{c.Layer}': rule '{name}' needs a direct-feedback edge into this layer (or this layer must be the one that sends the references).");
        if (feedback.Incoming > 1)
            throw new ArgumentException($"Layer '{c.Layer}': {feedback.Incoming} feedback edges arrive; the rules take one top-down reference.");
        if (settings.GlobalPool && feedback.Incoming > 0)
            throw new ArgumentException($"Layer '{c.Layer}': rule '{c.Rule}': global pooling (gap) applies to the lateral rules (clapp, clapp++); a direct-feedback reference is the top layer's loss features as sent.");
        return settings;
    }
}
