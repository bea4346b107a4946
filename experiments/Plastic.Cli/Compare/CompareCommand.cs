using System.CommandLine;
using System.Text.Json;
using Plastic.Cli.Runs;
using Plastic.Compute;
using Plastic.Sim;
using Plastic.Sim.Probes;
using Plastic.Topology;

namespace Plastic.Cli.Compare;

/// <summary>One variant at one seed: how it was trained, what the probe said, what it cost.</summary>
public sealed record ComparisonRow(string Method, string Rule, ulong Seed, bool Local, string SpatialDependence, ProbeProtocol? ProbeProtocol,
    double FinalAccuracy, double BestAccuracy, int BestEpoch, double ImagesPerSecond, double TensorMegabytes, long Messages, long Bytes,
    IReadOnlyList<LayerAlignmentSummary> Alignment, IReadOnlyList<LayerProbe> PerLayer, double? KnnAccuracy, string Folder);

/// <summary>
/// `plastic compare &lt;spec.json&gt;`: every variant of a comparison, at every seed, trained and probed through
/// the path `plastic run` takes (<see cref="RunExecution"/>); a table with means, 95 % intervals and paired
/// differences over the seeds, results.json and plots.
/// </summary>
public static class CompareCommand
{
    public static Command Build()
    {
        var spec = new Argument<string>("spec") { Description = "A comparison spec (JSON): name, cites, base (a run spec), variants (each a 'set' patch of the base, or 'untrained': true), seeds." };
        var set = new Option<string[]>("--set") { Description = "Change a key of the base run spec: path=value (e.g. --set steps=100 --set probe.epochs=2). Repeatable.", AllowMultipleArgumentsPerToken = false };
        var data = new Option<string?>("--data") { Description = "Data root (default: $PLASTIC_DATA, else ~/.cache/plastic/data)." };
        var output = new Option<string?>("--out") { Description = "Folder for the variants' run folders, compare.md, results.json and the plots (default runs/compare/<name>)." };
        var command = new Command("compare", "Train and probe several variants of one run spec, over seeds; a table with intervals and paired differences.") { spec, set, data, output };
        command.SetAction(parse =>
        {
            var comparison = ComparisonSpec.Load(parse.GetValue(spec)!, parse.GetValue(set));
            string folder = parse.GetValue(output) ?? Path.Combine("runs", "compare", comparison.Name);
            Directory.CreateDirectory(folder);
            var rows = new List<ComparisonRow>();
            int total = comparison.Variants.Count * comparison.Seeds.Count;
            foreach (var variant in comparison.Variants)
                foreach (var seed in comparison.Seeds)
                {
                    Console.WriteLine($"[{rows.Count + 1}/{total}] {variant.Name}{(comparison.Seeds.Count > 1 ? $", seed {seed}" : "")}");
                    string runFolder = Path.Combine(folder, Slug(variant.Name));
                    if (comparison.Seeds.Count > 1) runFolder = Path.Combine(runFolder, $"seed-{seed}");
                    var row = variant.Untrained
                        ? Untrained(comparison, variant, seed, parse.GetValue(data), runFolder)
                        : Trained(comparison, variant, seed, parse.GetValue(data), runFolder);
                    rows.Add(row);
                    string protocol = row.ProbeProtocol is { } p ? $"{p.Name()} protocol" : "no probe";
                    Console.WriteLine($"    probe ({protocol}) accuracy final {row.FinalAccuracy:P2}, best {row.BestAccuracy:P2} (epoch {row.BestEpoch}){(double.IsNaN(row.ImagesPerSecond) ? "" : $"; {row.ImagesPerSecond:F0} images/s")}");
                    // Written after every run: a comparison of hours that is cut short keeps what it finished.
                    ComparisonReport.Write(folder, comparison, rows);
                }
            ComparisonReport.Plots(folder, comparison, rows);
            Console.WriteLine();
            Console.WriteLine(ComparisonReport.Table(comparison, rows));
            Console.WriteLine($"wrote {folder}/compare.md, results.json, accuracy.png{(rows.Any(r => r.Alignment.Count > 0) ? ", alignment.png" : "")} and each run's folder");
            return 0;
        });
        return command;
    }

    private static ComparisonRow Trained(ComparisonSpec c, VariantSpec v, ulong seed, string? dataRoot, string runFolder)
    {
        var run = c.Run(v, seed);
        var outcome = RunExecution.Execute(new RunRequest(run, c.Directory, dataRoot, runFolder), line => Console.WriteLine("    " + line));
        var probe = outcome.Probe;
        return new ComparisonRow(v.Name, outcome.Network.Rule, seed, run.Graph == "local", Spatial(outcome.Network.Rule, run.Graph), probe?.Protocol,
            probe?.Concatenated.FinalAccuracy ?? double.NaN, probe?.Concatenated.Best.TestAccuracy ?? double.NaN, probe?.Concatenated.Best.Epoch ?? 0,
            outcome.ImagesPerSecond, outcome.TensorMegabytes, outcome.Messages, outcome.Bytes,
            LayerAlignmentSummary.Of(outcome.Result.Alignment.Select(a => a.Layer)), probe?.PerLayer ?? [], probe?.KnnAccuracy, runFolder);
    }

    /// <summary>The base's network at its seeded initialisation, probed as the base says (checked at load: the base has a probe).</summary>
    private static ComparisonRow Untrained(ComparisonSpec c, VariantSpec v, ulong seed, string? dataRoot, string runFolder)
    {
        var run = c.Run(v, seed);
        var network = RunCommand.Resolve(run.Network, c.Directory);
        if (run.Rule is { } rule) network = network with { Rule = rule };
        var data = LabelledData.Load(run.Dataset, dataRoot, network, run);
        Directory.CreateDirectory(runFolder);
        using var backend = BackendCatalog.Create(run.Device);
        var report = ProbeCommand.Probe(network, backend, seed, null, data.ProbeTrain!, data.Test!, data.Augment, run.Probe!.Settings(), line => Console.WriteLine("    " + line), v.Name);
        File.WriteAllText(Path.Combine(runFolder, "probe.json"), ProbeCommand.Json(report, run.Dataset).ToJsonString(JsonOutput.Options));
        return new ComparisonRow(v.Name, "-", seed, false, "-", report.Protocol, report.Concatenated.FinalAccuracy, report.Concatenated.Best.TestAccuracy,
            report.Concatenated.Best.Epoch, double.NaN, double.NaN, 0, 0, [], report.PerLayer, report.KnnAccuracy, runFolder);
    }

    /// <summary>Whether the loss keeps 2D spatial structure (PAPER.md table: CLAPP++ yes, global pooling no; backprop: the top layer's loss only).</summary>
    private static string Spatial(string rule, string graph)
    {
        if (rule.Contains("/gap") || rule.Split('/')[0] == "clapp") return "no";
        if (rule.Split('/')[0] is "ff") return "no";
        if (graph == "backprop") return "top layer";
        return "yes";
    }

    public static string Slug(string name) => string.Concat(name.ToLowerInvariant().Select(ch => char.IsLetterOrDigit(ch) || ch == '+' ? ch : '-'));
}
