namespace Plastic.Rules.Catalogue;

/// <summary>
/// The local rules by name: the one place `plastic run`, `describe`, the alignment meter, `plastic step`
/// and scripts get a rule from. A rule name is its catalogue name, then options separated by '/'
/// (clapp++/softplus/gap); each rule parses and validates its own. The backprop baselines are losses at
/// the top of the backprop graph, listed here so that names are checked in one place.
/// </summary>
public static class RuleCatalogue
{
    public static IReadOnlyList<RuleEntry> Local { get; } =
    [
        new(ContrastiveSettings.ClappPreset, "original CLAPP in the two-view setting: lateral hinge loss, global average pooling, 50/50 update (RULES-FF-SCFF-CLAPP.md 3)",
            ContrastiveSettings.OptionList, CheckContrastive, ContrastiveRules.Lateral),
        new(ContrastiveLoss.Name, "CLAPP++, lateral: each layer predicts its other view's features through B (PAPER.md 2.1, 3.1)",
            ContrastiveSettings.OptionList, CheckContrastive, ContrastiveRules.Lateral),
        new(DirectFeedbackRule.RuleName, "CLAPP++DFB: the top layer's features are each lower layer's reference, on a declared feedback edge (PAPER.md 2.4)",
            ContrastiveSettings.OptionList, CheckContrastive, ContrastiveRules.DirectFeedback),
        new(BothRule.RuleName, "CLAPP++both: the lateral loss plus the direct-feedback loss, summed (PAPER.md 2.4)",
            ContrastiveSettings.OptionList, CheckContrastive, ContrastiveRules.Both),
        new(ContrastiveSettings.PhyllPreset, "PhyLL's contrast mode: lateral, the type-1 loss with theta (PAPER.md 2.5)",
            ContrastiveSettings.OptionList, CheckContrastive, ContrastiveRules.Lateral),
        new(GoodnessSettings.ForwardForwardName, "Forward-Forward: goodness of a layer on positive and negative data (RULES-FF-SCFF-CLAPP.md 1)",
            "theta=<t>, th1=<t>, th2=<t>, lambda=<l>", CheckGoodness, MakeGoodness),
        new(GoodnessSettings.SelfContrastiveName, "SCFF: goodness with self-contrastive pairs (RULES-FF-SCFF-CLAPP.md 2)",
            "theta=<t>, th1=<t>, th2=<t>, lambda=<l>", CheckGoodness, MakeGoodness),
    ];

    /// <summary>The backprop graph's top losses (not local rules): bp-clapp++ takes clapp++'s options, bp-infonce 'grid'.</summary>
    public static IReadOnlyList<string> Backprop { get; } = ["bp-" + ContrastiveLoss.Name, InfoNceLoss.RuleName];

    /// <summary>Every local rule's name with its options, for messages.</summary>
    public static string Listing => string.Join("; ", Local.Select(e => $"{e.Name} ({e.Options})"));

    /// <summary>The entry of a rule name with options (the part before the first '/'), or a clear refusal naming the valid ones.</summary>
    public static RuleEntry Find(string rule, string layer)
    {
        string name = rule.Split('/')[0];
        if (Backprop.Contains(name))
            throw new ArgumentException($"Layer '{layer}': '{name}' is a backprop baseline, a loss at the top of the backprop graph; run it with the backprop graph (plastic run --graph backprop).");
        return Local.FirstOrDefault(e => e.Name == name)
            ?? throw new ArgumentException($"Layer '{layer}': rule '{name}' is not in the catalogue. Local rules: {string.Join(", ", Local.Select(e => e.Name))}; backprop baselines: {string.Join(", ", Backprop)}.");
    }

    /// <summary>Refuses an unknown rule, an unknown option or two options that contradict each other.</summary>
    public static void Check(string rule, string layer)
    {
        var entry = Find(rule, layer);
        try { entry.Check(rule); }
        catch (ArgumentException e) { throw new ArgumentException($"Layer '{layer}': {e.Message}", e); }
    }

    public static ILocalRule Create(RuleContext context)
    {
        Check(context.Rule, context.Layer);
        return Find(context.Rule, context.Layer).Create(context);
    }

    private static void CheckContrastive(string rule)
    {
        if (ContrastiveSettings.Parse(rule).Settings.KeepTopGrid)
            throw new ArgumentException($"Rule '{rule}': 'grid' is an option of the backprop baselines (bp-clapp++/grid, bp-infonce/grid); local rules always score their layer's loss grid.");
    }

    private static void CheckGoodness(string rule) => GoodnessSettings.Parse(rule);

    private static ILocalRule MakeGoodness(RuleContext context)
    {
        var (pairs, settings) = GoodnessSettings.Parse(context.Rule);
        return new GoodnessRule(context.Backend, pairs, settings);
    }
}
