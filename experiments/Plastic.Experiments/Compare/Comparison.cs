using Plastic.Compute;
using Plastic.Experiments.Runs;
using Plastic.Sim;
using Plastic.Sim.Probes;

namespace Plastic.Experiments.Compare;

/// <summary>One variant at one seed: how it was trained, what the probe said, what it cost.</summary>
public sealed record ComparisonRow(string Method, string Rule, ulong Seed, bool Local, string SpatialDependence, ProbeProtocol? ProbeProtocol,
    double FinalAccuracy, double BestAccuracy, int BestEpoch, double ImagesPerSecond, double TensorMegabytes, long Messages, long Bytes,
    IReadOnlyList<LayerAlignmentSummary> Alignment, IReadOnlyList<LayerProbe> PerLayer, double? KnnAccuracy, string Folder);

/// <summary>
/// Runs a comparison: every variant at every seed, trained and probed through <see cref="RunExecution"/> (the
/// path of `plastic run`) into &lt;folder&gt;/&lt;variant&gt;[/seed-S], the untrained encoder probed only;
/// compare.md and results.json rewritten after every run, the plots at the end.
/// </summary>
public static class Comparison
{
    /// <param name="rules">A rule factory of the caller's (a script's own rule), used by every trained variant; null: the catalogue.</param>
    /// <param name="overwrite">Replace the comparison the folder holds (its table and every run folder); without it such a folder is refused.</param>
    public static IReadOnlyList<ComparisonRow> Run(ComparisonSpec comparison, string? dataRoot, string folder, Action<string> log,
        RunProgressFactory? progress = null, RuleFactory? rules = null, bool overwrite = false)
    {
        if (!overwrite && File.Exists(Path.Combine(folder, "results.json")))
            throw new ArgumentException($"--out {folder}: holds a comparison already (results.json); replace it with --overwrite, or choose another folder.");
        Directory.CreateDirectory(folder);
        var rows = new List<ComparisonRow>();
        int total = comparison.Variants.Count * comparison.Seeds.Count;
        foreach (var variant in comparison.Variants)
            foreach (var seed in comparison.Seeds)
            {
                log($"[{rows.Count + 1}/{total}] {variant.Name}{(comparison.Seeds.Count > 1 ? $", seed {seed}" : "")}");
                string runFolder = Path.Combine(folder, Slug(variant.Name));
                if (comparison.Seeds.Count > 1) runFolder = Path.Combine(runFolder, $"seed-{seed}");
                var row = variant.Untrained
                    ? Untrained(comparison, variant, seed, dataRoot, runFolder, log)
                    : Trained(comparison, variant, seed, new RunRequest(comparison.Run(variant, seed), comparison.Directory, dataRoot, runFolder) { Progress = progress, Rules = rules, Overwrite = overwrite }, log);
                rows.Add(row);
                string speed = double.IsNaN(row.ImagesPerSecond) ? "" : $"{row.ImagesPerSecond:F0} images/s";
                log(row.ProbeProtocol is { } p
                    ? $"    probe ({p.Name()} protocol) accuracy final {row.FinalAccuracy:P2}, best {row.BestAccuracy:P2} (epoch {row.BestEpoch}){(speed.Length > 0 ? "; " + speed : "")}"
                    : $"    trained (no probe in the spec){(speed.Length > 0 ? "; " + speed : "")}");
                // Written after every run: a comparison of hours that is cut short keeps what it finished.
                ComparisonReport.Write(folder, comparison, rows);
            }
        ComparisonReport.Plots(folder, comparison, rows);
        return rows;
    }

    private static ComparisonRow Trained(ComparisonSpec c, VariantSpec v, ulong seed, RunRequest request, Action<string> log)
    {
        var outcome = RunExecution.Execute(request, line => log("    " + line))
            ?? throw new InvalidOperationException($"{request.Output}: a comparison's run does not resume.");
        var probe = outcome.Probe;
        string graph = request.Run.Graph;
        return new ComparisonRow(v.Name, outcome.Network.Rule, seed, graph == "local", Spatial(outcome.Network.Rule, graph), probe?.Protocol,
            probe?.Concatenated.FinalAccuracy ?? double.NaN, probe?.Concatenated.Best.TestAccuracy ?? double.NaN, probe?.Concatenated.Best.Epoch ?? 0,
            outcome.ImagesPerSecond, outcome.TensorMegabytes, outcome.Messages, outcome.Bytes,
            LayerAlignmentSummary.Of(outcome.Result.Alignment.Select(a => a.Layer)), probe?.PerLayer ?? [], probe?.KnnAccuracy, request.Output!);
    }

    /// <summary>The base's network at its seeded initialisation, probed as the base says (checked at load: the base has a probe).</summary>
    private static ComparisonRow Untrained(ComparisonSpec c, VariantSpec v, ulong seed, string? dataRoot, string runFolder, Action<string> log)
    {
        var run = c.Run(v, seed);
        var network = NetworkResolver.Resolve(run.Network, c.Directory);
        if (run.Rule is { } rule) network = network with { Rule = rule };
        var data = LabelledData.Load(run, c.Directory, dataRoot, network, line => log("    " + line));
        Directory.CreateDirectory(runFolder);
        using var backend = BackendCatalog.Create(run.Device);
        var report = Probing.Probe(network, backend, seed, null, data.ProbeTrain!, data.Test!, data.Augment, run.Probe!.Settings(), line => log("    " + line), v.Name);
        JsonOutput.WriteResults(Path.Combine(runFolder, "probe.json"), Probing.Json(report, run.Dataset.ToString()), RunFolderFiles.ConfigFile);
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

    /// <summary>A variant's folder name: lower case, letters, digits and '+', the rest '-'.</summary>
    public static string Slug(string name) => string.Concat(name.ToLowerInvariant().Select(ch => char.IsLetterOrDigit(ch) || ch == '+' ? ch : '-'));
}
