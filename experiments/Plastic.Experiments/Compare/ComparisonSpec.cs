using System.Text.Json;
using System.Text.Json.Nodes;
using Plastic.Experiments.Runs;

namespace Plastic.Experiments.Compare;

/// <summary>
/// One method of a comparison: a patch of the base run spec (dotted keys, as --set takes them: "rule",
/// "graph", "network", "optimizer.learningRate", ...), or the untrained encoder (the base's network at
/// its seeded initialisation, probed as the base says).
/// </summary>
public sealed record VariantSpec(string Name, JsonObject Set, bool Untrained);

/// <summary>
/// A comparison is a base run spec, variants that patch it, and seeds: each variant is trained and probed
/// once per seed through the very path `plastic run` takes (<see cref="RunExecution"/>), so a variant's run
/// is exactly the run of its patched spec. Read by the run spec's typed reader: the same keys, defaults and
/// errors; every variant's spec is checked before anything runs.
/// <code>
/// { "name": "...", "cites": "...", "base": { ...run spec... },
///   "variants": [ { "name": "CLAPP++ (GAP)", "set": { "rule": "clapp++/gap" } }, { "name": "random init", "untrained": true } ],
///   "seeds": [2, 3, 4] }
/// </code>
/// A "sweep" ({ "optimizer.learningRate": [1e-4, 2e-4, 5e-4] }, any run-spec keys) makes a variant of every
/// combination of its values, for each trained variant (or for the base alone when there are none).
/// </summary>
public sealed record ComparisonSpec(string Name, string Cites, JsonObject Base, IReadOnlyList<VariantSpec> Variants, IReadOnlyList<ulong> Seeds, string Source)
{
    private static readonly string[] Keys = ["name", "cites", "base", "variants", "seeds", "sweep"];

    /// <summary>The swept key and its values when the comparison is a one-key sweep (for the sweep plot); else null.</summary>
    public (string Key, IReadOnlyList<JsonNode?> Values)? Sweep { get; init; }
    private static readonly string[] VariantKeys = ["name", "set", "untrained"];

    /// <summary>The folder the base's relative paths (a network spec file) start from.</summary>
    public string Directory => Path.GetDirectoryName(Path.GetFullPath(Source))!;

    /// <summary>The run spec of a variant at a seed: the base, the variant's patch, the seed.</summary>
    public JsonObject RunTree(VariantSpec variant, ulong seed)
    {
        var tree = (JsonObject)Base.DeepClone();
        if (!variant.Untrained)
            foreach (var (key, value) in variant.Set) RunSpec.SetPath(tree, key, value, $"{Source}: variant '{variant.Name}'");
        tree["seed"] = seed;
        return tree;
    }

    /// <summary>The typed run spec of a variant at a seed (errors name the file and the variant).</summary>
    public RunSpec Run(VariantSpec variant, ulong seed) => RunSpec.From(RunTree(variant, seed), $"{Source}: variant '{variant.Name}' (seed {seed})");

    /// <summary>The base as a typed run spec: the network, data and probe every variant shares unless it patches them.</summary>
    public RunSpec BaseRun => RunSpec.From(RunTree(new VariantSpec("base", [], true), Seeds[0]), $"{Source}: base");

    /// <summary>
    /// One trained variant as a run spec at the first seed (`plastic run comparison.json --variant V`),
    /// found by name or by the rule it sets, case-insensitively.
    /// </summary>
    public static JsonObject VariantAsRun(string path, string variant)
    {
        var c = Load(path);
        var v = c.Find(variant);
        if (v.Untrained) throw new ArgumentException($"{path}: variant '{v.Name}' is the untrained encoder; there is nothing to run.");
        return c.RunTree(v, c.Seeds[0]);
    }

    /// <summary>A variant by name, or by the rule it sets.</summary>
    public VariantSpec Find(string variant) =>
        Variants.FirstOrDefault(x => string.Equals(x.Name, variant, StringComparison.OrdinalIgnoreCase))
        ?? Variants.FirstOrDefault(x => string.Equals(RuleOf(x), variant, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"{Source}: no variant named or ruled '{variant}'. Variants: {string.Join(", ", Variants.Select(x => $"{x.Name} ({RuleOf(x) ?? "untrained"})"))}.");

    /// <summary>The rule a variant trains with (its own, else the base's); null for the untrained encoder.</summary>
    public string? RuleOf(VariantSpec v) => v.Untrained ? null : (v.Set["rule"] ?? Base["rule"])?.GetValue<string>();

    /// <summary>Reads and checks a comparison; <paramref name="baseSets"/> are --set assignments applied to the base.</summary>
    public static ComparisonSpec Load(string path, IEnumerable<string>? baseSets = null)
    {
        if (!File.Exists(path)) throw new ArgumentException($"{path}: no such comparison spec.");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                ?? throw new ArgumentException($"{path}: a comparison spec is a JSON object.");
        }
        catch (JsonException e) { throw new ArgumentException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}"); }
        foreach (var (key, _) in root)
            if (!Keys.Contains(key))
                throw new ArgumentException(key is "network" or "dataset" or "steps" or "batch" or "learningRate" or "seed" or "alignEvery" or "probe" or "sslSplit"
                    ? $"{path}: '{key}' belongs in 'base' (a run spec that every variant patches): {{ \"base\": {{ \"network\": ..., \"{key}\": ... }}, \"variants\": [ {{ \"name\": ..., \"set\": {{ \"rule\": ... }} }} ] }}."
                    : $"{path}: unknown key '{key}'. Known: {string.Join(", ", Keys)}.");
        string name = Text(root, "name", path) ?? throw new ArgumentException($"{path}: 'name' is required.");
        var baseTree = root["base"] as JsonObject ?? throw new ArgumentException($"{path}: 'base' (a run spec: network, dataset, steps or epochs, probe, ...) is required.");
        foreach (var assignment in baseSets ?? []) RunSpec.Set(baseTree, assignment);
        var sweep = ReadSweep(root["sweep"], path);
        List<VariantSpec> variants;
        if (root["variants"] is null && sweep is not null) variants = [];
        else if (root["variants"] is not JsonArray variantNodes || variantNodes.Count == 0) throw new ArgumentException($"{path}: 'variants' must be a non-empty array (or give a 'sweep').");
        else variants = variantNodes.Select((node, i) => ReadVariant(node, $"{path}: variants[{i}]")).ToList();
        if (sweep is not null) variants = Expand(variants, sweep);
        var duplicate = variants.GroupBy(v => v.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"{path}: variant name '{duplicate.Key}' is used {duplicate.Count()} times; each variant needs its own (it names its folder).");
        var seeds = ReadSeeds(root["seeds"], baseTree, path);
        var comparison = new ComparisonSpec(name, Text(root, "cites", path) ?? "", baseTree, variants, seeds, path)
        {
            Sweep = sweep is { Count: 1 } ? (sweep[0].Key, sweep[0].Values) : null,
        };
        return comparison.Checked();
    }

    /// <summary>
    /// A comparison built in code (an experiment script): the same checks as a file's. Relative network
    /// paths in the base start from <paramref name="directory"/> (default: the current folder).
    /// </summary>
    public static ComparisonSpec Create(string name, JsonObject @base, IEnumerable<VariantSpec> variants, IEnumerable<ulong>? seeds = null, string cites = "", string? directory = null)
    {
        var list = variants.ToList();
        if (list.Count == 0) throw new ArgumentException($"comparison '{name}': no variants.");
        var seedList = (seeds ?? [2UL]).ToList();
        if (seedList.Count == 0 || seedList.Distinct().Count() != seedList.Count) throw new ArgumentException($"comparison '{name}': seeds must be distinct and at least one.");
        string source = Path.Combine(directory ?? System.IO.Directory.GetCurrentDirectory(), $"{name} (in code)");
        return new ComparisonSpec(name, cites, (JsonObject)@base.DeepClone(), list, seedList, source).Checked();
    }

    /// <summary>Every variant's run spec checked before anything runs (at the first seed: seeds change nothing else).</summary>
    private ComparisonSpec Checked()
    {
        var baseRun = BaseRun;
        foreach (var v in Variants.Where(v => !v.Untrained)) Run(v, Seeds[0]);
        if (Variants.Any(v => v.Untrained) && baseRun.Probe is null)
            throw new ArgumentException($"{Source}: an untrained variant is only probed: give 'base' a 'probe' (and a labelled data set).");
        return this;
    }

    /// <summary>The sweep's keys, each with its values, in the spec's order; null without a sweep.</summary>
    private static List<(string Key, IReadOnlyList<JsonNode?> Values)>? ReadSweep(JsonNode? node, string path)
    {
        if (node is null) return null;
        if (node is not JsonObject o || o.Count == 0) throw new ArgumentException($"{path}: 'sweep' is an object of run-spec keys, each with the list of its values, e.g. {{ \"optimizer.learningRate\": [1e-4, 2e-4, 5e-4] }}.");
        var keys = new List<(string, IReadOnlyList<JsonNode?>)>();
        foreach (var (key, values) in o)
        {
            if (key == "seed") throw new ArgumentException($"{path}: sweep 'seed': seeds are the comparison's 'seeds'.");
            if (values is not JsonArray list || list.Count == 0) throw new ArgumentException($"{path}: sweep '{key}' needs a non-empty list of values.");
            keys.Add((key, list.Select(v => v?.DeepClone()).ToList()));
        }
        return keys;
    }

    /// <summary>Every trained variant (or the base alone) at every combination of the sweep's values, named by them; untrained ones once.</summary>
    private static List<VariantSpec> Expand(List<VariantSpec> variants, List<(string Key, IReadOnlyList<JsonNode?> Values)> sweep)
    {
        IEnumerable<List<(string Key, JsonNode? Value)>> combinations = [[]];
        foreach (var (key, values) in sweep)
            combinations = combinations.SelectMany(c => values.Select(v => c.Append((key, v)).ToList())).ToList();
        var trained = variants.Where(v => !v.Untrained).Select(v => (VariantSpec?)v).DefaultIfEmpty(null).ToList();
        var expanded = new List<VariantSpec>();
        foreach (var v in trained)
            foreach (var combination in combinations)
            {
                var set = v is null ? new JsonObject() : (JsonObject)v.Set.DeepClone();
                foreach (var (key, value) in combination) set[key] = value?.DeepClone();
                string point = string.Join(", ", combination.Select(c => $"{c.Key}={c.Value?.ToJsonString() ?? "null"}"));
                expanded.Add(new VariantSpec(v is null ? point : $"{v.Name}, {point}", set, false));
            }
        expanded.AddRange(variants.Where(v => v.Untrained));
        return expanded;
    }

    private static VariantSpec ReadVariant(JsonNode? node, string where)
    {
        if (node is not JsonObject v) throw new ArgumentException($"{where}: a variant is an object {{ \"name\": ..., \"set\": {{ ... }} }} or {{ \"name\": ..., \"untrained\": true }}.");
        foreach (var (key, _) in v)
            if (!VariantKeys.Contains(key))
                throw new ArgumentException(key is "rule" or "graph" or "network"
                    ? $"{where}: '{key}' goes inside the variant's 'set' (a patch of the base run spec): \"set\": {{ \"{key}\": ... }}."
                    : $"{where}: unknown key '{key}'. Known: {string.Join(", ", VariantKeys)}.");
        string name = Text(v, "name", where) ?? throw new ArgumentException($"{where}: a variant needs a 'name'.");
        bool untrained = v["untrained"] is JsonValue u && u.TryGetValue(out bool b) ? b
            : v["untrained"] is null ? false : throw new ArgumentException($"{where}: 'untrained' is true or false.");
        var set = v["set"] switch
        {
            null => new JsonObject(),
            JsonObject o => (JsonObject)o.DeepClone(),
            _ => throw new ArgumentException($"{where}: 'set' is an object of dotted run-spec keys, e.g. {{ \"rule\": \"clapp++/gap\", \"optimizer.learningRate\": 1e-3 }}."),
        };
        if (untrained && set.Count > 0) throw new ArgumentException($"{where}: variant '{name}' is untrained; it has nothing to set (it is probed as the base says).");
        if (!untrained && set.Count == 0) throw new ArgumentException($"{where}: variant '{name}' sets nothing; give it 'set' (e.g. {{ \"rule\": \"clapp++\" }}) or 'untrained': true.");
        if (set.ContainsKey("seed")) throw new ArgumentException($"{where}: variants do not set 'seed'; the comparison's 'seeds' give every variant the same seeds.");
        return new VariantSpec(name, set, untrained);
    }

    private static List<ulong> ReadSeeds(JsonNode? node, JsonObject baseTree, string path)
    {
        if (node is null)
            return [baseTree["seed"] is JsonValue s && s.TryGetValue(out ulong one) ? one : 2UL];
        if (baseTree.ContainsKey("seed")) throw new ArgumentException($"{path}: give the seeds once: 'seeds' at the top, or 'seed' in 'base', not both.");
        if (node is not JsonArray array || array.Count == 0) throw new ArgumentException($"{path}: 'seeds' is a non-empty array of whole numbers, e.g. [2, 3, 4].");
        var seeds = array.Select(n => n is JsonValue v && v.TryGetValue(out ulong x) ? x : throw new ArgumentException($"{path}: 'seeds' holds whole numbers of 0 or more; got {n?.ToJsonString() ?? "null"}.")).ToList();
        if (seeds.Distinct().Count() != seeds.Count) throw new ArgumentException($"{path}: 'seeds' repeats a seed ([{string.Join(", ", seeds)}]); a repeated seed is the same run twice.");
        return seeds;
    }

    private static string? Text(JsonObject o, string key, string where) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        _ => throw new ArgumentException($"{where}: '{key}' is text."),
    };
}
