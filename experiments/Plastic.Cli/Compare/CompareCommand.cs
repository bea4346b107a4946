using System.CommandLine;
using Plastic.Experiments.Compare;
using Plastic.Experiments.Runs;

namespace Plastic.Cli.Compare;

/// <summary>`plastic compare &lt;spec.json&gt;`: the engine's <see cref="Comparison"/> with progress bars and the table printed.</summary>
public static class CompareCommand
{
    public static Command Build()
    {
        var spec = new Argument<string>("spec") { Description = "A comparison spec (JSON): name, cites, base (a run spec), variants (each a 'set' patch of the base, or 'untrained': true), seeds, sweep." };
        var set = new Option<string[]>("--set") { Description = "Change a key of the base run spec: path=value (e.g. --set steps=100 --set probe.epochs=2). Repeatable.", AllowMultipleArgumentsPerToken = false };
        var data = new Option<string?>("--data") { Description = "Data root (default: $PLASTIC_DATA, else ~/.cache/plastic/data)." };
        var output = new Option<string?>("--out") { Description = "Folder for the variants' run folders, compare.md, results.json and the plots (default runs/compare/<name>)." };
        var smoke = new Option<bool>("--smoke") { Description = "A tiny budget to check that the comparison runs end to end: 2 steps of 4 images, the first seed, a 1-epoch probe on 64 / 32 images; the numbers mean nothing." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the comparison --out holds (its table and every run folder); without it such a folder is refused." };
        var command = new Command("compare", "Train and probe several variants of one run spec, over seeds; a table with intervals and paired differences.") { spec, set, data, output, smoke, overwrite };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(spec)!;
            var sets = parse.GetValue(set) ?? [];
            var comparison = ComparisonSpec.Load(path, sets);
            if (parse.GetValue(smoke)) comparison = ComparisonSpec.Load(path, SmokeBudget.For(comparison.Base).Concat(sets)) with { Seeds = [comparison.Seeds[0]] };
            string folder = parse.GetValue(output) ?? Path.Combine("runs", "compare", comparison.Name);
            var rows = Comparison.Run(comparison, parse.GetValue(data), folder, Console.WriteLine, Runs.RunProgress.Factory, overwrite: parse.GetValue(overwrite));
            Console.WriteLine();
            Console.WriteLine(ComparisonReport.Table(comparison, rows));
            Console.WriteLine($"wrote {folder}/compare.md, results.json, accuracy.png{(rows.Any(r => r.Alignment.Count > 0) ? ", alignment.png" : "")}{(comparison.Sweep is null ? "" : ", sweep.png")} and each run's folder");
            return 0;
        });
        return command;
    }
}
