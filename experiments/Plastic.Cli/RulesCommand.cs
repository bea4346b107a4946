using System.CommandLine;
using Plastic.Rules.Catalogue;

namespace Plastic.Cli;

/// <summary>`plastic rules`: the rule catalogue, the names `run`, `step`, specs and scripts accept, with each rule's options.</summary>
public static class RulesCommand
{
    public static Command Build()
    {
        var command = new Command("rules", "List the rules a layer can learn with (the rule catalogue) and their options, and the backprop baselines.");
        command.SetAction(_ =>
        {
            Console.WriteLine("local rules (name, then options after '/', e.g. clapp++/softplus/gap):");
            foreach (var entry in RuleCatalogue.Local)
            {
                Console.WriteLine($"  {entry.Name,-12} {entry.Summary}");
                Console.WriteLine($"  {"",-12} options: {entry.Options}");
            }
            Console.WriteLine();
            Console.WriteLine($"backprop baselines (--graph backprop; a loss at the top only): {string.Join(", ", RuleCatalogue.Backprop)}; bp-clapp++ takes clapp++'s options, either takes /grid to keep the top layer's loss grid instead of pooling to 1 x 1");
            return 0;
        });
        return command;
    }

    /// <summary>The names, for option descriptions.</summary>
    public static string Names => string.Join(", ", RuleCatalogue.Local.Select(e => e.Name).Concat(RuleCatalogue.Backprop));
}
