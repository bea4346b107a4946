using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Plastic.Experiments.Runs;
using Plastic.Sim;
using Plastic.Sim.Probes;

namespace Plastic.Experiments.Compare;

/// <summary>
/// What a comparison writes: compare.md (per variant the mean over seeds with its 95 % interval, the
/// paired differences between variants over the same seeds, per-seed numbers, kNN, per-layer probes and
/// alignment), results.json (snake_case, every run with its seed, protocol and folder, the commit) and the plots.
/// </summary>
public static class ComparisonReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void Write(string folder, ComparisonSpec c, IReadOnlyList<ComparisonRow> rows)
    {
        File.WriteAllText(Path.Combine(folder, "compare.md"), Table(c, rows));
        JsonOutput.WriteResults(Path.Combine(folder, "results.json"), Json(c, rows));
    }

    /// <summary>Rows grouped by variant, in the spec's order.</summary>
    private static List<(string Method, List<ComparisonRow> Runs)> ByVariant(IReadOnlyList<ComparisonRow> rows) =>
        rows.GroupBy(r => r.Method).Select(g => (g.Key, g.ToList())).ToList();

    private static SeedMean Final(List<ComparisonRow> runs) => SeedStatistics.Of(runs.Select(r => r.FinalAccuracy).ToList());

    private static IEnumerable<(string A, string B, SeedMean Difference)> Pairs(IReadOnlyList<ComparisonRow> rows)
    {
        var groups = ByVariant(rows);
        for (int i = 0; i < groups.Count; i++)
            for (int j = i + 1; j < groups.Count; j++)
            {
                var d = SeedStatistics.PairedDifference(groups[i].Runs.ToDictionary(r => r.Seed, r => r.FinalAccuracy), groups[j].Runs.ToDictionary(r => r.Seed, r => r.FinalAccuracy));
                if (d.Count > 1) yield return (groups[i].Method, groups[j].Method, d);
            }
    }

    private static string Percent(double v) => double.IsNaN(v) ? "-" : (100 * v).ToString("F2", Invariant) + " %";

    private static string Points(double v) => double.IsNaN(v) ? "-" : (100 * v).ToString("+0.00;-0.00;0.00", Invariant);

    public static string Table(ComparisonSpec c, IReadOnlyList<ComparisonRow> rows)
    {
        var run = c.BaseRun;
        var sb = new StringBuilder();
        string length = run.Schedule == "greedy" ? "greedy, steps per layer from " + (run.LayerSteps is not null ? "layerSteps" : "layerEpochs")
            : run.Steps is { } s ? $"{s} steps" : run.Epochs is { } e ? $"{e.ToString(Invariant)} epochs" : "20 steps";
        sb.AppendLine(Invariant, $"## {c.Name}: {run.Dataset}, {length} of {run.Batch} x 2 views, lr {run.Optimizer.LearningRate.ToString(Invariant)}, seeds {string.Join(", ", c.Seeds)}");
        if (c.Cites.Length > 0) sb.AppendLine().AppendLine(c.Cites);
        if (run.Probe is { } p)
        {
            var settings = p.Settings();
            sb.AppendLine().AppendLine(Invariant,
                $"Linear probe, **{settings.Protocol.Name()} protocol**: {p.Epochs} epochs on {(p.TrainImages == 0 ? "all" : p.TrainImages.ToString(Invariant))} training images, tested on {(p.TestImages == 0 ? "all" : p.TestImages.ToString(Invariant))} test images; {settings.Protocol.Describe()}. Best is optimistic (chosen on the test set). Tensor MB: each node's peak of live tensors (weights, B, optimiser state, activations and buffers), summed over the nodes; message payloads not counted.{(p.Knn > 0 ? $" kNN: {p.Knn} nearest training images by cosine, majority vote." : "")}");
        }
        string protocol = run.Probe is { } q ? $"{q.Settings().Protocol.Name()} protocol" : "no probe";
        bool seeds = c.Seeds.Count > 1;
        sb.AppendLine().AppendLine(seeds
            ? $"Mean over {c.Seeds.Count} seeds with its 95 % interval (Student's t):"
            : "One seed: no interval; differences below about a point are not an ordering.").AppendLine();
        sb.AppendLine($"| method | rule | local | 2D spatial dep. | probe acc. final ({protocol}) | 95 % interval | best (epoch) | images/s | tensor MB | messages between layers | bytes between layers |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (method, runs) in ByVariant(rows))
        {
            var first = runs[0];
            var final = Final(runs);
            var best = SeedStatistics.Of(runs.Select(r => r.BestAccuracy).ToList());
            double images = runs.Select(r => r.ImagesPerSecond).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
            double tensor = runs.Select(r => r.TensorMegabytes).Where(double.IsFinite).DefaultIfEmpty(double.NaN).Average();
            string interval = final.Count > 1 ? $"{Percent(final.Low)} .. {Percent(final.High)}" : "-";
            string bestText = runs.Count == 1 ? $"{Percent(first.BestAccuracy)} ({first.BestEpoch})" : Percent(best.Mean);
            sb.AppendLine(Invariant,
                $"| {method} | `{first.Rule}` | {(first.Rule == "-" ? "-" : first.Local ? "yes" : "no")} | {first.SpatialDependence} | {Percent(final.Mean)} | {interval} | {bestText} | {(double.IsNaN(images) ? "-" : images.ToString("F0", Invariant))} | {(double.IsNaN(tensor) ? "-" : tensor.ToString("F0", Invariant))} | {first.Messages:N0} | {first.Bytes:N0} |");
        }
        // Without a probe there is no accuracy to difference: the per-seed tables would be empty.
        if (seeds && run.Probe is not null)
        {
            sb.AppendLine().AppendLine("Paired differences of the final accuracy (row minus column variant, same seeds; points): resolved when the 95 % interval leaves out 0.").AppendLine();
            sb.AppendLine("| difference | mean | 95 % interval | seeds | resolved by these seeds? |").AppendLine("|---|---|---|---|---|");
            foreach (var (a, b, d) in Pairs(rows))
                sb.AppendLine(Invariant, $"| {a} - {b} | {Points(d.Mean)} | {Points(d.Low)} .. {Points(d.High)} | {d.Count} | {(d.ExcludesZero ? (d.Mean > 0 ? "yes: " + a + " above" : "yes: " + b + " above") : "no")} |");
            sb.AppendLine().AppendLine("Per seed (final accuracy):").AppendLine();
            sb.AppendLine("| method | " + string.Join(" | ", c.Seeds.Select(s => $"seed {s}")) + " |");
            sb.AppendLine("|---|" + string.Concat(c.Seeds.Select(_ => "---|")));
            foreach (var (method, runs) in ByVariant(rows))
                sb.AppendLine($"| {method} | " + string.Join(" | ", c.Seeds.Select(s => runs.FirstOrDefault(r => r.Seed == s) is { } r ? Percent(r.FinalAccuracy) : "")) + " |");
        }
        if (SweepLines(c, rows) is { } sweep)
        {
            sb.AppendLine().AppendLine($"Sweep of `{sweep.Key}` (final accuracy{(seeds ? ", mean over seeds" : "")}):").AppendLine();
            sb.AppendLine($"| variant | " + string.Join(" | ", sweep.Labels) + " |").AppendLine("|---|" + string.Concat(sweep.Labels.Select(_ => "---|")));
            foreach (var (line, points) in sweep.Lines) sb.AppendLine($"| {line} | " + string.Join(" | ", points.Select(p => Percent(p?.Mean ?? double.NaN))) + " |");
        }
        var knn = ByVariant(rows).Where(g => g.Runs.Any(r => r.KnnAccuracy is not null)).ToList();
        if (knn.Count > 0)
        {
            sb.AppendLine().AppendLine(Invariant, $"| method | {run.Probe?.Knn}-NN accuracy ({protocol} features{(seeds ? ", mean over seeds" : "")}) |").AppendLine("|---|---|");
            foreach (var (method, runs) in knn) sb.AppendLine($"| {method} | {Percent(runs.Where(r => r.KnnAccuracy is not null).Average(r => r.KnnAccuracy!.Value))} |");
        }
        var probed = ByVariant(rows).Where(g => g.Runs[0].PerLayer.Count > 0).ToList();
        if (probed.Count > 0)
        {
            var layers = probed[0].Runs[0].PerLayer.Select(l => l.Layer).ToList();
            sb.AppendLine().AppendLine($"Linear probe per layer ({protocol}; each layer's loss-pooled features alone; final epoch{(seeds ? ", mean over seeds" : "")}):").AppendLine();
            sb.AppendLine("| method | " + string.Join(" | ", layers) + " |").AppendLine("|---|" + string.Concat(layers.Select(_ => "---|")));
            foreach (var (method, runs) in probed)
                sb.AppendLine($"| {method} | " + string.Join(" | ", layers.Select((_, i) => Percent(runs.Average(r => r.PerLayer[i].Result.FinalAccuracy)))) + " |");
        }
        var aligned = ByVariant(rows).Where(g => g.Runs[0].Alignment.Count > 0).ToList();
        if (aligned.Count > 0)
        {
            var layers = aligned[0].Runs[0].Alignment.Select(a => a.Layer).ToList();
            sb.AppendLine().AppendLine($"Alignment with backprop of the top loss (cosine of weight updates, mean over snapshots{(seeds ? " and seeds" : "")}):").AppendLine();
            sb.AppendLine("| method | " + string.Join(" | ", layers) + " |").AppendLine("|---|" + string.Concat(layers.Select(_ => "---|")));
            foreach (var (method, runs) in aligned)
                sb.AppendLine($"| {method} | " + string.Join(" | ", layers.Select((_, i) => runs.Average(r => r.Alignment[i].Cosine).ToString("F3", Invariant))) + " |");
        }
        return sb.ToString();
    }

    /// <summary>A one-key sweep as lines (one per swept variant, "sweep" for the base alone) over the values, in order.</summary>
    private static (string Key, List<string> Labels, List<(string Line, List<SeedMean?> Points)> Lines)? SweepLines(ComparisonSpec c, IReadOnlyList<ComparisonRow> rows)
    {
        if (c.Sweep is not { } sweep) return null;
        var labels = sweep.Values.Select(v => v?.ToJsonString() ?? "null").ToList();
        var groups = ByVariant(rows).ToDictionary(g => g.Method, g => g.Runs);
        var lines = new List<(string, List<SeedMean?>)>();
        foreach (var name in c.Variants.Where(v => !v.Untrained).Select(v => v.Name))
        {
            string suffix = $"{sweep.Key}=";
            int at = name.LastIndexOf(suffix, StringComparison.Ordinal);
            string line = at > 2 ? name[..(at - 2)] : "sweep";
            if (lines.Any(l => l.Item1 == line)) continue;
            var points = labels.Select(label =>
            {
                string variant = (line == "sweep" ? "" : line + ", ") + suffix + label;
                return groups.TryGetValue(variant, out var runs) ? Final(runs) : (SeedMean?)null;
            }).ToList();
            lines.Add((line, points));
        }
        return (sweep.Key, labels, lines);
    }

    public static JsonObject Json(ComparisonSpec c, IReadOnlyList<ComparisonRow> rows)
    {
        static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
        var variants = new JsonArray(c.Variants.Select(v => (JsonNode)new JsonObject
        {
            ["name"] = v.Name, ["untrained"] = v.Untrained, ["set"] = v.Set.DeepClone(),
        }).ToArray());
        var runs = new JsonArray(rows.Select(r => (JsonNode)new JsonObject
        {
            ["method"] = r.Method, ["rule"] = r.Rule, ["seed"] = r.Seed, ["local"] = r.Local, ["spatial_dependence"] = r.SpatialDependence,
            ["probe_protocol"] = r.ProbeProtocol?.Name(), ["final_accuracy"] = Number(r.FinalAccuracy), ["best_accuracy"] = Number(r.BestAccuracy), ["best_epoch"] = r.BestEpoch,
            ["knn_accuracy"] = r.KnnAccuracy is { } k ? JsonValue.Create(k) : null, ["images_per_s"] = Number(r.ImagesPerSecond), ["tensor_mb"] = Number(r.TensorMegabytes),
            ["messages"] = r.Messages, ["bytes"] = r.Bytes, ["folder"] = r.Folder,
            ["per_layer"] = new JsonArray(r.PerLayer.Select(l => (JsonNode)new JsonObject { ["layer"] = l.Layer, ["final_accuracy"] = l.Result.FinalAccuracy }).ToArray()),
            ["alignment"] = new JsonArray(r.Alignment.Select(a => (JsonNode)new JsonObject { ["layer"] = a.Layer, ["cosine"] = Number(a.Cosine), ["interval95"] = Number(a.Interval95) }).ToArray()),
        }).ToArray());
        var summary = new JsonArray(ByVariant(rows).Select(g =>
        {
            var f = Final(g.Runs);
            return (JsonNode)new JsonObject
            {
                ["method"] = g.Method, ["seeds"] = f.Count, ["mean_final_accuracy"] = Number(f.Mean), ["interval95_low"] = Number(f.Low), ["interval95_high"] = Number(f.High),
            };
        }).ToArray());
        var pairs = new JsonArray(Pairs(rows).Select(p => (JsonNode)new JsonObject
        {
            ["a"] = p.A, ["b"] = p.B, ["seeds"] = p.Difference.Count, ["mean_difference"] = Number(p.Difference.Mean),
            ["interval95_low"] = Number(p.Difference.Low), ["interval95_high"] = Number(p.Difference.High), ["resolved"] = p.Difference.ExcludesZero,
        }).ToArray());
        return new JsonObject
        {
            ["commit"] = Provenance.GitCommit(),
            ["comparison"] = new JsonObject { ["name"] = c.Name, ["cites"] = c.Cites, ["seeds"] = new JsonArray(c.Seeds.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()), ["base"] = c.Base.DeepClone(), ["variants"] = variants },
            ["probe_protocol"] = c.BaseRun.Probe?.Settings().Protocol.Name(),
            ["runs"] = runs, ["summary"] = summary, ["pairs"] = pairs,
        };
    }

    public static void Plots(string folder, ComparisonSpec c, IReadOnlyList<ComparisonRow> rows)
    {
        var groups = ByVariant(rows);
        var plot = new ScottPlot.Plot();
        for (int i = 0; i < groups.Count; i++)
        {
            var final = Final(groups[i].Runs);
            var bar = plot.Add.Bar(i * 3, 100 * final.Mean);
            bar.Color = ScottPlot.Colors.SteelBlue;
            var best = plot.Add.Bar(i * 3 + 1, 100 * groups[i].Runs.Average(r => r.BestAccuracy));
            best.Color = ScottPlot.Colors.Orange;
            if (final.Count > 1)
            {
                var whisker = plot.Add.Line(i * 3, 100 * final.Low, i * 3, 100 * final.High);
                whisker.Color = ScottPlot.Colors.Black;
                whisker.LineWidth = 2;
            }
        }
        plot.Axes.Bottom.SetTicks(groups.Select((_, i) => i * 3 + 0.5).ToArray(), groups.Select(g => g.Method).ToArray());
        string protocol = c.BaseRun.Probe?.Settings().Protocol.Name() ?? "no";
        plot.Title($"{c.Name}: linear-probe accuracy ({protocol} protocol); blue: final epoch{(c.Seeds.Count > 1 ? $", mean of {c.Seeds.Count} seeds with 95 % interval" : "")}; orange: best epoch");
        plot.YLabel("Test accuracy (%)");
        plot.XLabel("Method");
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(Path.Combine(folder, "accuracy.png"), Math.Max(700, 140 * groups.Count), 500);
        if (SweepLines(c, rows) is { } sweep)
        {
            var lines = new ScottPlot.Plot();
            foreach (var (line, points) in sweep.Lines)
            {
                var xs = points.Select((p, i) => (p, i)).Where(t => t.p is { } m && double.IsFinite(m.Mean)).ToList();
                if (xs.Count == 0) continue;
                var scatter = lines.Add.Scatter(xs.Select(t => (double)t.i).ToArray(), xs.Select(t => 100 * t.p!.Mean).ToArray());
                scatter.LegendText = line;
                foreach (var (p, i) in xs.Where(t => t.p!.Count > 1))
                    lines.Add.Line(i, 100 * p!.Low, i, 100 * p.High).Color = scatter.Color;
            }
            lines.Axes.Bottom.SetTicks(sweep.Labels.Select((_, i) => (double)i).ToArray(), sweep.Labels.ToArray());
            lines.Title($"{c.Name}: final linear-probe accuracy over {sweep.Key}{(c.Seeds.Count > 1 ? $" (mean of {c.Seeds.Count} seeds, 95 % interval)" : "")}");
            lines.XLabel(sweep.Key);
            lines.YLabel("Test accuracy (%)");
            lines.ShowLegend();
            lines.SavePng(Path.Combine(folder, "sweep.png"), 800, 500);
        }
        var aligned = groups.Where(g => g.Runs[0].Alignment.Count > 0).ToList();
        if (aligned.Count > 0)
            RunPlots.Alignment(Path.Combine(folder, "alignment.png"), $"{c.Name}: alignment with backprop per layer",
                aligned.Select(g => (g.Method, (IReadOnlyList<LayerAlignmentSummary>)g.Runs[0].Alignment.Select((a, i) => a with { Cosine = g.Runs.Average(r => r.Alignment[i].Cosine) }).ToList())).ToList());
    }
}
