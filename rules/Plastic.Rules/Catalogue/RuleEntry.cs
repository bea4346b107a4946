namespace Plastic.Rules.Catalogue;

/// <summary>
/// One rule the catalogue knows: its name, what it is (with its PAPER.md or RULES-FF-SCFF-CLAPP.md
/// section), the options it takes, and how it is made. <see cref="Check"/> parses a name with options and
/// refuses unknown or contradictory ones, before anything is built.
/// </summary>
public sealed record RuleEntry(string Name, string Summary, string Options, Action<string> Check, Func<RuleContext, ILocalRule> Create);
