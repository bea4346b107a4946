using System.Text.Json;
using Plastic.Sim.Probes;

namespace Plastic.Cli.Compare;

/// <summary>
/// One method of a comparison: its rule (or backprop loss), its graph, or the untrained encoder; Network
/// replaces the comparison's network for this variant (the same layers with direct-feedback edges, for DFB).
/// </summary>
public sealed record VariantSpec(string Name, string? Rule, string Graph, bool Untrained, string? Network = null);

/// <summary>
/// A comparison: one network, one data set, one budget and seed, several variants. Keys are camelCase;
/// an unknown key is an error naming it and the file. Defaults (why): learningRate 2e-4 and batch 32
/// are PAPER.md 4.3's; seed 2 the paper's; probe epochs 20 (the paper's 300 do not fit a quick budget) and
/// probe protocol "fast" (the paper's, "paper", re-encodes the augmented training images every epoch);
/// sslSplit as in a run spec (null: the data set's default, STL-10's unlabelled images).
/// </summary>
public sealed record ComparisonSpec(string Name, string Cites, string Network, string Dataset, int Steps, int Batch, float LearningRate, ulong Seed,
    int AlignEvery, ProbeSettings Probe, IReadOnlyList<VariantSpec> Variants, string Source, string? SslSplit = null)
{
    /// <summary>
    /// One trained variant as a run spec (`plastic run comparison.json --variant V`): the comparison's
    /// network, data, budget, seed, learning rate, probe and (local graph) alignment, with the variant's
    /// rule and graph. Found by name or by rule, case-insensitively.
    /// </summary>
    public static System.Text.Json.Nodes.JsonObject VariantAsRun(string path, string variant)
    {
        var c = Load(path);
        var v = c.Variants.FirstOrDefault(x => string.Equals(x.Name, variant, StringComparison.OrdinalIgnoreCase))
            ?? c.Variants.FirstOrDefault(x => string.Equals(x.Rule, variant, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"{path}: no variant named or ruled '{variant}'. Variants: {string.Join(", ", c.Variants.Select(x => $"{x.Name} ({x.Rule ?? "untrained"})"))}.");
        if (v.Untrained) throw new ArgumentException($"{path}: variant '{v.Name}' is the untrained encoder; there is nothing to run.");
        string network = v.Network ?? c.Network;
        if (!Plastic.Topology.Presets.Names.Contains(network)) network = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, network);
        var run = new System.Text.Json.Nodes.JsonObject
        {
            ["network"] = network,
            ["rule"] = v.Rule,
            ["graph"] = v.Graph,
            ["dataset"] = c.Dataset,
            ["sslSplit"] = c.SslSplit,
            ["steps"] = c.Steps,
            ["batch"] = c.Batch,
            ["seed"] = c.Seed,
            ["optimizer"] = new System.Text.Json.Nodes.JsonObject { ["learningRate"] = c.LearningRate },
            ["alignEvery"] = v.Graph == "local" ? c.AlignEvery : 0,
        };
        if (c.Dataset != "synthetic")
            run["probe"] = new System.Text.Json.Nodes.JsonObject
            {
                ["protocol"] = c.Probe.Protocol.Name(), ["epochs"] = c.Probe.Epochs, ["trainImages"] = c.Probe.TrainImages, ["testImages"] = c.Probe.TestImages,
                ["perLayer"] = c.Probe.PerLayer, ["knn"] = c.Probe.Knn,
            };
        return run;
    }

    public static ComparisonSpec Load(string path)
    {
        if (!File.Exists(path)) throw new ArgumentException($"{path}: no such comparison spec.");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new ArgumentException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            Check(root, path, "", "name", "cites", "network", "dataset", "steps", "batch", "learningRate", "seed", "alignEvery", "probe", "variants", "sslSplit");
            var probe = root.TryGetProperty("probe", out var p) ? p : default;
            if (probe.ValueKind == JsonValueKind.Object) Check(probe, path, "probe.", "protocol", "epochs", "trainImages", "testImages", "perLayer", "knn");
            if (!root.TryGetProperty("variants", out var variants) || variants.ValueKind != JsonValueKind.Array || variants.GetArrayLength() == 0)
                throw new ArgumentException($"{path}: 'variants' must be a non-empty array.");
            var list = variants.EnumerateArray().Select((v, i) =>
            {
                Check(v, path, $"variants[{i}].", "name", "rule", "graph", "untrained", "network");
                string graph = Str(v, "graph") ?? "local";
                if (graph is not ("local" or "backprop")) throw new ArgumentException($"{path}: variants[{i}].graph '{graph}': choose local or backprop.");
                bool untrained = v.TryGetProperty("untrained", out var u) && u.GetBoolean();
                string? rule = Str(v, "rule");
                if (rule is null && !untrained) throw new ArgumentException($"{path}: variants[{i}] needs a rule (or untrained: true).");
                return new VariantSpec(Str(v, "name") ?? throw new ArgumentException($"{path}: variants[{i}] needs a name."), rule, graph, untrained, Str(v, "network"));
            }).ToList();
            var comparison = new ComparisonSpec(
                Str(root, "name") ?? throw new ArgumentException($"{path}: 'name' is required."),
                Str(root, "cites") ?? "",
                Str(root, "network") ?? throw new ArgumentException($"{path}: 'network' (a preset or a spec file) is required."),
                Str(root, "dataset") ?? throw new ArgumentException($"{path}: 'dataset' is required."),
                Int(root, "steps", path) ?? throw new ArgumentException($"{path}: 'steps' is required."),
                Int(root, "batch", path) ?? 32,
                root.TryGetProperty("learningRate", out var lr) ? lr.GetSingle() : 2e-4f,
                root.TryGetProperty("seed", out var seed) ? seed.GetUInt64() : 2UL,
                Int(root, "alignEvery", path) ?? 0,
                new ProbeSettings(Int(probe, "epochs", path) ?? 20, Int(probe, "trainImages", path) ?? 0, Int(probe, "testImages", path) ?? 0,
                    probe.ValueKind == JsonValueKind.Object && probe.TryGetProperty("perLayer", out var perLayer) && perLayer.GetBoolean(), Int(probe, "knn", path) ?? 0,
                    ProbeProtocols.Parse(Str(probe, "protocol") ?? "fast", $"{path}: probe.protocol")),
                list, path, Str(root, "sslSplit"));
            comparison.Probe.Validate(path);
            if (comparison.SslSplit is not null)
            {
                if (comparison.Dataset == "synthetic") throw new ArgumentException($"{path}: 'sslSplit' chooses a data set's training images; synthetic data has none.");
                try { Plastic.Datasets.Readers.DatasetSplits.SelfSupervisedSplit(comparison.Dataset, comparison.SslSplit); }
                catch (ArgumentException e) { throw new ArgumentException($"{path}: {e.Message}"); }
            }
            return comparison;
        }
    }

    private static void Check(JsonElement e, string path, string prefix, params string[] allowed)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new ArgumentException($"{path}: {(prefix.Length == 0 ? "the document" : prefix.TrimEnd('.'))} must be an object.");
        foreach (var property in e.EnumerateObject())
            if (!allowed.Contains(property.Name))
                throw new ArgumentException($"{path}: unknown key '{prefix}{property.Name}'. Known: {string.Join(", ", allowed)}.");
    }

    private static string? Str(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v.GetString() : null;

    private static int? Int(JsonElement e, string name, string path)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out var v)) return null;
        return v.TryGetInt32(out int i) && i >= 0 ? i : throw new ArgumentException($"{path}: '{name}' must be a whole number of 0 or more.");
    }
}
