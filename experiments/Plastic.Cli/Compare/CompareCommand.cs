using System.CommandLine;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Plastic.Compute;
using Plastic.Datasets.Augment;
using Plastic.Datasets.Catalog;
using Plastic.Datasets.Pipeline;
using Plastic.Datasets.Readers;
using Plastic.Sim;
using Plastic.Sim.Probes;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Cli.Compare;

/// <summary>One row of a comparison.</summary>
public sealed record ComparisonRow(string Method, string Rule, bool Local, string SpatialDependence, ProbeProtocol ProbeProtocol, double FinalAccuracy, double BestAccuracy, int BestEpoch,
    double ImagesPerSecond, double TensorMegabytes, long Messages, long Bytes, IReadOnlyList<LayerAlignmentSummary> Alignment,
    IReadOnlyList<LayerProbe> PerLayer, double? KnnAccuracy);

/// <summary>
/// `plastic compare &lt;spec.json&gt;`: every variant trained with the same network, data, seed and budget,
/// then probed the same way; a markdown table, results.json and a bar chart.
/// </summary>
public static class CompareCommand
{
    public static Command Build()
    {
        var spec = new Argument<string>("spec") { Description = "A comparison spec (JSON): network, dataset, steps, batch, learningRate, seed, alignEvery, probe, variants." };
        var data = new Option<string?>("--data") { Description = "Data root (default: $PLASTIC_DATA, else ~/.cache/plastic/data)." };
        var output = new Option<string?>("--out") { Description = "Folder for the variants' run folders, compare.md, results.json and accuracy.png (default runs/compare/<name>)." };
        var command = new Command("compare", "Train and probe several variants under identical conditions; a comparison table.") { spec, data, output };
        command.SetAction(parse =>
        {
            var comparison = ComparisonSpec.Load(parse.GetValue(spec)!);
            string specDir = Path.GetDirectoryName(Path.GetFullPath(comparison.Source))!;
            var network = Resolve(comparison.Network, specDir);
            DatasetCatalog.ByName(comparison.Dataset);
            string root = DataRoot.Resolve(parse.GetValue(data));
            string sslSplit = DatasetSplits.SelfSupervisedSplit(comparison.Dataset, comparison.SslSplit);
            // Resolved, so that results.json and each variant's config name the split that was read.
            comparison = comparison with { SslSplit = sslSplit };
            LabelledImages ssl, train, test;
            try
            {
                ssl = DatasetSplits.SelfSupervised(root, comparison.Dataset, sslSplit);
                train = sslSplit == "train" ? ssl : DatasetSplits.Train(root, comparison.Dataset);
                test = ProbeTestTransform.Apply(comparison.Dataset, DatasetSplits.Test(root, comparison.Dataset));
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException($"{comparison.Dataset}: {e.Message}"); }
            var settings = AugmentSettings.For(comparison.Dataset);
            string folder = parse.GetValue(output) ?? Path.Combine("runs", "compare", comparison.Name);
            Directory.CreateDirectory(folder);

            var rows = new List<ComparisonRow>();
            using var backend = BackendCatalog.Create(null);
            foreach (var variant in comparison.Variants)
            {
                Console.WriteLine($"[{rows.Count + 1}/{comparison.Variants.Count}] {variant.Name}");
                var variantNetwork = variant.Network is null ? network : Resolve(variant.Network, specDir);
                if (NetworkValidator.Validate(variantNetwork).Sum(s => s.Weights) != NetworkValidator.Validate(network).Sum(s => s.Weights))
                    throw new ArgumentException($"{comparison.Source}: variant '{variant.Name}' uses network {variantNetwork.Name}, whose layers differ from {network.Name}'s; a comparison keeps the encoder fixed.");
                rows.Add(RunVariant(comparison, variant, variantNetwork, ssl, train, test, settings, backend, Path.Combine(folder, Slug(variant.Name))));
                var r = rows[^1];
                Console.WriteLine($"    probe ({r.ProbeProtocol.Name()} protocol) accuracy final {r.FinalAccuracy:P2}, best {r.BestAccuracy:P2} (epoch {r.BestEpoch}){(double.IsNaN(r.ImagesPerSecond) ? "" : $"; {r.ImagesPerSecond:F0} images/s")}");
                // Written after every variant: a comparison of hours that is cut short keeps the rows it finished.
                WriteTables(folder, comparison, rows);
            }
            string table = Table(comparison, rows);
            Plot(Path.Combine(folder, "accuracy.png"), comparison, rows);
            if (rows.Any(r => r.Alignment.Count > 0))
                RunPlots.Alignment(Path.Combine(folder, "alignment.png"), $"{comparison.Name}: alignment with backprop per layer",
                    rows.Select(r => (r.Method, r.Alignment)).ToList());
            Console.WriteLine();
            Console.WriteLine(table);
            Console.WriteLine($"wrote {folder}/compare.md, results.json, accuracy.png, alignment.png and each variant's loss.png");
            return 0;
        });
        return command;
    }

    private static void WriteTables(string folder, ComparisonSpec comparison, IReadOnlyList<ComparisonRow> rows)
    {
        File.WriteAllText(Path.Combine(folder, "compare.md"), Table(comparison, rows));
        File.WriteAllText(Path.Combine(folder, "results.json"), JsonSerializer.Serialize(new { commit = Runs.RunCommand.GitCommit(), comparison, rows },
            new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }

    private static ComparisonRow RunVariant(ComparisonSpec c, VariantSpec v, NetworkSpec network, LabelledImages ssl, LabelledImages train, LabelledImages test, AugmentSettings settings,
        IComputeBackend backend, string runFolder)
    {
        Directory.CreateDirectory(runFolder);
        var net = v.Rule is null ? network : network with { Rule = v.Rule };
        bool local = !v.Untrained && v.Graph == "local";
        RunResult? result = null;
        long messages = 0, bytes = 0;
        double tensorMegabytes = double.NaN;
        if (!v.Untrained)
        {
            var graph = v.Graph == "local" ? GraphKind.Local : GraphKind.Backprop;
            var options = new RunOptions(c.Steps, c.Batch, c.Seed, graph == GraphKind.Local ? 4 : 1, c.LearningRate, graph, AlignEvery: local ? c.AlignEvery : 0);
            using var source = new DatasetBatches(new TwoViewPipeline(ssl, settings, c.Batch, c.Seed, workers: Math.Max(1, Environment.ProcessorCount - 1)), c.Seed);
            var layers = net.Layers.Select(l => l.Name).Append(Plastic.Sim.Protocol.GraphWiring.LossNode).ToHashSet();
            using var listener = new MeterListener();
            listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == SimTelemetry.Name) l.EnableMeasurementEvents(instrument); };
            listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                string? from = null, to = null;
                foreach (var t in tags)
                {
                    if (t.Key == SimTelemetry.CounterFromTag) from = t.Value as string;
                    else if (t.Key == SimTelemetry.CounterToTag) to = t.Value as string;
                }
                // Between layers (and the backprop graph's loss node): not the input's data, not the monitor's snapshots.
                if (from is null || to is null || !layers.Contains(from) || !layers.Contains(to)) return;
                if (instrument.Name == "plastic.sim.messages") Interlocked.Add(ref messages, value); else Interlocked.Add(ref bytes, value);
            });
            listener.Start();
            var nodes = Simulation.ComputeNodes(net, graph);
            var progress = new Runs.RunProgress(nodes, c.Steps, 0, c.Batch);
            var backends = new Runs.BackendTally(null, Runs.LayerThreads.For(graph, options.MaxInFlight));
            result = progress.Show(() => Simulation.RunAsync(net, options, backends.Make, source, observer: progress).GetAwaiter().GetResult());
            // The alignment monitor's backend is an instrument's, not part of training: only the nodes' count.
            tensorMegabytes = backends.PeakMegabytes(nodes.Count);
            WeightsFile.Write(Path.Combine(runFolder, WeightsFile.Name), net, result.Parameters);
            // What plastic probe needs to probe this variant again (per layer, kNN, more epochs).
            File.WriteAllText(Path.Combine(runFolder, "config.resolved.json"), new System.Text.Json.Nodes.JsonObject
            {
                ["spec"] = System.Text.Json.Nodes.JsonNode.Parse(NetworkSpecJson.Serialize(net)), ["graph"] = v.Graph, ["data"] = c.Dataset, ["ssl_split"] = c.SslSplit, ["steps"] = c.Steps,
                ["batch"] = c.Batch, ["seed"] = c.Seed, ["learning_rate"] = c.LearningRate, ["comparison"] = c.Name, ["commit"] = Runs.RunCommand.GitCommit(),
            }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            RunPlots.Losses(Path.Combine(runFolder, "loss.png"), $"{v.Name}: loss per layer", result.Losses,
                net.Layers.Select(l => l.Name).Append(Plastic.Sim.Protocol.GraphWiring.LossNode));
        }
        var report = ProbeCommand.Probe(network, backend, c.Seed, result?.Parameters, train, test, settings, c.Probe, line => Console.WriteLine("    " + line), v.Name);
        var probe = report.Concatenated;
        double imagesPerSecond = result is null ? double.NaN : c.Steps * c.Batch / result.Elapsed.TotalSeconds;
        var alignment = result is null ? [] : LayerAlignmentSummary.Of(result.Alignment.Select(a => a.Layer));
        string rule = v.Untrained ? "-" : v.Rule!;
        return new ComparisonRow(v.Name, rule, local, Spatial(v, net), report.Protocol, probe.FinalAccuracy, probe.Best.TestAccuracy, probe.Best.Epoch,
            imagesPerSecond, tensorMegabytes, messages, bytes, alignment, report.PerLayer, report.KnnAccuracy);
    }

    /// <summary>Whether the loss keeps 2D spatial structure (PAPER.md table: CLAPP++ yes, global pooling no; backprop: the top layer's loss only).</summary>
    private static string Spatial(VariantSpec v, NetworkSpec net)
    {
        if (v.Untrained || v.Rule is null) return "-";
        if (v.Rule.Contains("/gap") || v.Rule.Split('/')[0] == "clapp") return "no";
        if (v.Rule.Split('/')[0] is "ff") return "no";
        if (v.Graph == "backprop") return "top layer";
        return "yes";
    }

    private static string Table(ComparisonSpec c, IReadOnlyList<ComparisonRow> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"## {c.Name}: {c.Dataset} ({c.SslSplit} split), {c.Steps} steps of {c.Batch} x 2 views, lr {c.LearningRate}, seed {c.Seed}");
        if (c.Cites.Length > 0) sb.AppendLine().AppendLine(c.Cites);
        sb.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"Linear probe, **{c.Probe.Protocol.Name()} protocol**: {c.Probe.Epochs} epochs on {(c.Probe.TrainImages == 0 ? "all" : c.Probe.TrainImages.ToString(CultureInfo.InvariantCulture))} training images, tested on {(c.Probe.TestImages == 0 ? "all" : c.Probe.TestImages.ToString(CultureInfo.InvariantCulture))} test images; {c.Probe.Protocol.Describe()}. Best is optimistic (chosen on the test set). Tensor MB: each node's peak of live tensors (weights, B, optimiser state, activations and buffers), summed over the nodes; message payloads not counted.{(c.Probe.Knn > 0 ? $" kNN: {c.Probe.Knn} nearest training images by cosine, majority vote." : "")}");
        string protocol = $"{c.Probe.Protocol.Name()} protocol";
        sb.AppendLine().AppendLine($"| method | rule | local | 2D spatial dep. | probe acc. final ({protocol}) | best (epoch) | images/s | tensor MB | messages between layers | bytes between layers |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Method} | `{r.Rule}` | {(r.Rule == "-" ? "-" : r.Local ? "yes" : "no")} | {r.SpatialDependence} | {r.FinalAccuracy:P2} | {r.BestAccuracy:P2} ({r.BestEpoch}) | {(double.IsNaN(r.ImagesPerSecond) ? "-" : r.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture))} | {(double.IsNaN(r.TensorMegabytes) ? "-" : r.TensorMegabytes.ToString("F0", CultureInfo.InvariantCulture))} | {r.Messages:N0} | {r.Bytes:N0} |");
        if (rows.Any(r => r.KnnAccuracy is not null))
        {
            sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"| method | {c.Probe.Knn}-NN accuracy ({protocol} features) |").AppendLine("|---|---|");
            foreach (var r in rows.Where(r => r.KnnAccuracy is not null)) sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Method} | {r.KnnAccuracy:P2} |");
        }
        var probed = rows.Where(r => r.PerLayer.Count > 0).ToList();
        if (probed.Count > 0)
        {
            sb.AppendLine().AppendLine($"Linear probe per layer ({protocol}; each layer's loss-pooled features alone; final epoch):").AppendLine();
            sb.AppendLine("| method | " + string.Join(" | ", probed[0].PerLayer.Select(l => l.Layer)) + " |");
            sb.AppendLine("|---|" + string.Concat(probed[0].PerLayer.Select(_ => "---|")));
            foreach (var r in probed)
                sb.AppendLine($"| {r.Method} | " + string.Join(" | ", r.PerLayer.Select(l => l.Result.FinalAccuracy.ToString("P2", CultureInfo.InvariantCulture))) + " |");
        }
        var aligned = rows.Where(r => r.Alignment.Count > 0).ToList();
        if (aligned.Count > 0)
        {
            sb.AppendLine().AppendLine("Alignment with backprop of the top loss (cosine of weight updates, mean over snapshots):").AppendLine();
            sb.AppendLine("| method | " + string.Join(" | ", aligned[0].Alignment.Select(a => a.Layer)) + " |");
            sb.AppendLine("|---|" + string.Concat(aligned[0].Alignment.Select(_ => "---|")));
            foreach (var r in aligned)
                sb.AppendLine($"| {r.Method} | " + string.Join(" | ", r.Alignment.Select(a => a.Cosine.ToString("F3", CultureInfo.InvariantCulture))) + " |");
        }
        return sb.ToString();
    }

    private static void Plot(string path, ComparisonSpec c, IReadOnlyList<ComparisonRow> rows)
    {
        var plot = new ScottPlot.Plot();
        for (int i = 0; i < rows.Count; i++)
        {
            var final = plot.Add.Bar(i * 3, rows[i].FinalAccuracy * 100);
            final.Color = ScottPlot.Colors.SteelBlue;
            var best = plot.Add.Bar(i * 3 + 1, rows[i].BestAccuracy * 100);
            best.Color = ScottPlot.Colors.Orange;
        }
        plot.Axes.Bottom.SetTicks(rows.Select((_, i) => i * 3 + 0.5).ToArray(), rows.Select(r => r.Method).ToArray());
        plot.Title($"{c.Name}: linear-probe accuracy ({c.Probe.Protocol.Name()} protocol, {c.Dataset}, {c.Steps} steps); blue: final epoch, orange: best epoch");
        plot.YLabel("Test accuracy (%)");
        plot.XLabel("Method");
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(path, Math.Max(700, 140 * rows.Count), 500);
    }

    private static NetworkSpec Resolve(string network, string specDir) =>
        Presets.Names.Contains(network) ? Presets.ByName(network) : NetworkSpecJson.Load(Path.Combine(specDir, network));

    private static string Slug(string name) => string.Concat(name.ToLowerInvariant().Select(ch => char.IsLetterOrDigit(ch) || ch == '+' ? ch : '-'));
}
