using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Plastic.Experiments.Runs;

/// <summary>The optimiser of a run: AdamW (PAPER.md 4.3: lr 2e-4, weight decay 0; Tiny ImageNet 1e-5).</summary>
public sealed record OptimizerSpec
{
    public float LearningRate { get; init; } = Plastic.Sim.RunOptions.PaperLearningRate;
    public float WeightDecay { get; init; }
}

/// <summary>
/// Changes to the data set's augmentation preset (PAPER.md 4.2); what is left out keeps the preset's
/// value. Crop size and normalisation follow the data set and the network, so they are not here.
/// </summary>
public sealed record AugmentSpec
{
    public double? MinScale { get; init; }
    public double? Jitter { get; init; }
    public double? JitterProbability { get; init; }
    public double? GrayscaleProbability { get; init; }
    public double? BlurProbability { get; init; }
    public double? FlipProbability { get; init; }
}

/// <summary>
/// The probes of a run with a labelled data set: after training, a linear probe on every layer's
/// features concatenated (PAPER.md 4.4), per-layer probes and kNN when asked, under Protocol ("paper" is
/// PAPER.md 4.4; "fast", the default because CI and the quickstart can afford it, computes the features once
/// and standardises them); during training, every OnlineEvery steps, a quick probe of the current weights on
/// a subset (OnlineTrainImages / OnlineTestImages, OnlineEpochs), always with the fast protocol, reported per step.
/// </summary>
public sealed record RunProbeSpec
{
    public string Protocol { get; init; } = "fast";
    public int Epochs { get; init; } = 20;
    public int TrainImages { get; init; }
    public int TestImages { get; init; }
    public bool PerLayer { get; init; }
    public int Knn { get; init; }
    public int OnlineEvery { get; init; }
    public int OnlineTrainImages { get; init; } = 5000;
    public int OnlineTestImages { get; init; } = 1000;
    public int OnlineEpochs { get; init; } = 5;
    /// <summary>The probe's labelled training set: a catalogue set (its train split) or a labelled folder; default: the run's data set.</summary>
    public DatasetRef? Train { get; init; }
    /// <summary>The probe's test set: a catalogue set (its test split) or a labelled folder; default: the run's data set's test split.</summary>
    public DatasetRef? Test { get; init; }

    /// <summary>The probe after training, as the probe suite takes it.</summary>
    public Plastic.Sim.Probes.ProbeSettings Settings() =>
        new(Epochs, TrainImages, TestImages, PerLayer, Knn, Plastic.Sim.Probes.ProbeProtocols.Parse(Protocol, "probe.protocol"));
}

/// <summary>
/// One training run, as `plastic run &lt;spec.json&gt;` reads it. Keys are camelCase; an unknown key is an
/// error naming it and the file. Network is a preset or a network spec file (relative to the run spec);
/// Dataset a catalogue name, "synthetic" or a folder of images (<see cref="DatasetRef"/>). Steps, or Epochs of the training split (not both); neither:
/// 20 steps, a quick look. Defaults are the paper's where it has one (batch 32, seed 2, AdamW 2e-4).
/// </summary>
public sealed record RunSpec
{
    public string Network { get; init; } = "";
    public string? Rule { get; init; }
    public string Graph { get; init; } = "local";
    public DatasetRef Dataset { get; init; } = DatasetRef.Synthetic;
    /// <summary>
    /// Which images self-supervised training reads: null is the data set's default (STL-10: "unlabeled",
    /// its 100,000 unlabelled images, as the paper; "unlabeled+train" adds the 5,000 labelled ones, the
    /// released code's --merge_train_unlabeled; the other sets have "train" only). The probe always trains
    /// on the labelled train split and tests on test.
    /// </summary>
    public string? SslSplit { get; init; }
    public AugmentSpec? Augment { get; init; }
    public OptimizerSpec Optimizer { get; init; } = new();
    public long? Steps { get; init; }
    public double? Epochs { get; init; }
    public int Batch { get; init; } = 32;
    public ulong Seed { get; init; } = 2;
    public string? Device { get; init; }
    /// <summary>
    /// pipelined (the local graph's default), sequential (the only one backprop allows), or greedy: local
    /// rules trained layer by layer, bottom first, each for its entry of layerEpochs or layerSteps while
    /// the layers below are frozen (RULES-FF-SCFF-CLAPP.md 2.4; run pipelined, which gives the same weights).
    /// </summary>
    public string? Schedule { get; init; }
    /// <summary>Greedy schedule: epochs of the training split per layer, bottom first (or layerSteps).</summary>
    public double[]? LayerEpochs { get; init; }
    /// <summary>Greedy schedule: steps per layer, bottom first (or layerEpochs).</summary>
    public long[]? LayerSteps { get; init; }
    public string Negatives { get; init; } = "next";
    public int AlignEvery { get; init; }
    public int CheckpointEvery { get; init; }
    /// <summary>How many complete checkpoints to keep (the newest); older ones are removed as new ones complete.</summary>
    public int CheckpointKeep { get; init; } = 3;
    /// <summary>Faults to inject for tests and demos of recovery, "layer@step" (also from the PLASTIC_FAULTS environment variable).</summary>
    public string[]? Faults { get; init; }
    public RunProbeSpec? Probe { get; init; }
    /// <summary>
    /// Which cluster role hosts which nodes, "role=node,node;role=node" (used with --cluster or --local-cluster;
    /// nodes not named, and always the input and the monitor, stay in the driver's process).
    /// </summary>
    public string? Placement { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // Reflection named explicitly: hosts built for trimming (a `dotnet run file.cs` script) turn it off by default.
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Whether a JSON file is a run spec (it names a network) rather than a network spec or a comparison (which has variants).</summary>
    public static bool IsRunSpec(string path) => TryReadObject(path) is { } o && o.ContainsKey("network") && !o.ContainsKey("variants");

    /// <summary>Whether a JSON file is a comparison spec (it has variants).</summary>
    public static bool IsComparison(string path) => TryReadObject(path) is { } o && o.ContainsKey("variants");

    /// <summary>The JSON object in a .json file, or null when there is none (no file, not JSON, not an object).</summary>
    private static JsonObject? TryReadObject(string path)
    {
        if (!File.Exists(path) || !path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return null;
        try { return Parse(path) as JsonObject; }
        catch (ArgumentException) { return null; }
    }

    /// <summary>A JSON file's tree, every object read through so that a key given twice is found here; errors name the file.</summary>
    private static JsonNode? Parse(string path)
    {
        string text = File.ReadAllText(path);
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException($"{path}: the file is empty; a spec is a JSON object.");
        try
        {
            var node = JsonNode.Parse(text, documentOptions: Documents);
            Visit(node);
            return node;
        }
        catch (JsonException e) { throw new ArgumentException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}"); }
        catch (ArgumentException e) when (e.ParamName == "key" || e.Message.StartsWith("An item with the same key", StringComparison.Ordinal))
        {
            string key = e.Message.Split("Key: ", 2) is [_, var rest] ? rest.Split(' ')[0] : "?";
            throw new ArgumentException($"{path}: the key '{key}' is given twice in one object; give each key once.");
        }
    }

    private static void Visit(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o: foreach (var (_, v) in o) Visit(v); break;
            case JsonArray a: foreach (var v in a) Visit(v); break;
        }
    }

    /// <summary>
    /// Refuses a .json file that `plastic run` cannot take: not JSON, empty, not an object, a key given twice,
    /// or an object that is none of a run spec ('network'), a comparison ('variants') or a network spec ('layers').
    /// </summary>
    public static void CheckSpecFile(string path)
    {
        if (Parse(path) is not JsonObject o)
            throw new ArgumentException($"{path}: a spec is a JSON object {{ ... }}, not another JSON value.");
        if (!o.ContainsKey("network") && !o.ContainsKey("variants") && !o.ContainsKey("layers"))
            throw new ArgumentException($"{path}: not a spec plastic run knows: a run spec names its 'network' (a preset or a network spec file), a comparison has 'variants', a network spec has 'layers'.");
    }

    private static readonly JsonDocumentOptions Documents = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Reads a run spec file as a JSON tree (for --set to edit before it is typed).</summary>
    public static JsonObject Read(string path)
    {
        if (!File.Exists(path)) throw new ArgumentException($"{path}: no such run spec.");
        return Parse(path) as JsonObject ?? throw new ArgumentException($"{path}: a run spec is a JSON object.");
    }

    /// <summary>
    /// Sets a dotted path (probe.epochs) to a value: JSON when it parses as JSON (numbers, true, null,
    /// objects), else the text itself. Objects on the way are made when missing.
    /// </summary>
    public static void Set(JsonObject root, string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ArgumentException($"--set {assignment}: expected path=value, e.g. --set probe.epochs=5.");
        string text = assignment[(eq + 1)..];
        JsonNode? value;
        try { value = JsonNode.Parse(text); }
        catch (JsonException) { value = JsonValue.Create(text); }
        SetPath(root, assignment[..eq], value, $"--set {assignment}");
    }

    /// <summary>Sets a dotted path to a JSON value (a copy of it); objects on the way are made when missing. <paramref name="source"/> names the change in errors.</summary>
    public static void SetPath(JsonObject root, string dottedPath, JsonNode? value, string source)
    {
        string[] path = dottedPath.Split('.');
        var node = root;
        for (int i = 0; i < path.Length; i++)
        {
            if (path[i].Length == 0) throw new ArgumentException($"{source}: empty key in the path '{dottedPath}'.");
            if (i == path.Length - 1) break;
            if (node[path[i]] is null) node[path[i]] = new JsonObject();
            node = node[path[i]] as JsonObject
                ?? throw new ArgumentException($"{source}: '{string.Join('.', path[..(i + 1)])}' is a value, not an object with keys.");
        }
        node[path[^1]] = value?.DeepClone();
    }

    /// <summary>The typed spec of a JSON tree; <paramref name="source"/> names where it came from in errors.</summary>
    public static RunSpec From(JsonObject root, string source)
    {
        CheckKeys(root, typeof(RunSpec), "", source);
        DatasetRef.CheckNode(root["dataset"], "dataset", source, allowSynthetic: true);
        DatasetRef.CheckNode((root["probe"] as JsonObject)?["train"], "probe.train", source, allowSynthetic: false);
        DatasetRef.CheckNode((root["probe"] as JsonObject)?["test"], "probe.test", source, allowSynthetic: false);
        RunSpec spec;
        try { spec = root.Deserialize<RunSpec>(Json) ?? throw new ArgumentException($"{source}: empty run spec."); }
        catch (JsonException e) { throw new ArgumentException($"{source}: {e.Path?.TrimStart('$', '.')}: {ExpectedValue(e.Message)}."); }
        spec.Validate(source);
        return spec;
    }

    /// <summary>What a key's value should have been, from the serializer's message (which names a .NET type).</summary>
    private static string ExpectedValue(string message)
    {
        var type = System.Text.RegularExpressions.Regex.Match(message, @"converted to System\.(?:Nullable`1\[System\.)?(\w+)");
        string expected = type.Groups[1].Value switch
        {
            "Int32" or "Int64" => "a whole number",
            "UInt64" or "UInt32" => "a whole number, 0 or more",
            "Single" or "Double" => "a number (not in quotes)",
            "String" => "text in quotes",
            "Boolean" => "true or false",
            var t when t.Length > 0 => $"a value of another kind ({t})",
            _ => "a value of another kind",
        };
        return $"the value is not what this key takes; expected {expected}";
    }

    private void Validate(string source)
    {
        if (Network.Length == 0) throw new ArgumentException($"{source}: 'network' (a preset or a network spec file) is required.");
        if (Graph is not ("local" or "backprop")) throw new ArgumentException($"{source}: graph '{Graph}': choose local or backprop.");
        if (Steps is not null && Epochs is not null) throw new ArgumentException($"{source}: give 'steps' or 'epochs', not both.");
        if (Steps is < 1) throw new ArgumentException($"{source}: 'steps' must be at least 1, got {Steps}.");
        if (Epochs is <= 0) throw new ArgumentException($"{source}: 'epochs' must be above 0, got {Epochs}.");
        if (Epochs is not null && Dataset.IsSynthetic) throw new ArgumentException($"{source}: 'epochs' needs a data set; synthetic data takes 'steps'.");
        if (SslSplit is not null)
        {
            if (Dataset.IsSynthetic) throw new ArgumentException($"{source}: 'sslSplit' chooses a data set's training images; synthetic data has none.");
            if (Dataset.IsFolder) throw new ArgumentException($"{source}: 'sslSplit' chooses among a catalogue set's splits; a folder of images is one set (remove sslSplit).");
            try { Plastic.Datasets.Readers.DatasetSplits.SelfSupervisedSplit(Dataset.Name!, SslSplit); }
            catch (ArgumentException e) { throw new ArgumentException($"{source}: {e.Message}"); }
        }
        if (Schedule is not (null or "pipelined" or "sequential" or "greedy"))
            throw new ArgumentException($"{source}: schedule '{Schedule}': choose pipelined, sequential or greedy.");
        bool layered = LayerEpochs is not null || LayerSteps is not null;
        if (Schedule == "greedy")
        {
            if (LayerEpochs is not null == LayerSteps is not null)
                throw new ArgumentException($"{source}: the greedy schedule needs 'layerEpochs' or 'layerSteps' (one entry per layer, bottom first), not {(layered ? "both" : "neither")}.");
            if (Steps is not null || Epochs is not null)
                throw new ArgumentException($"{source}: with the greedy schedule the run's length is the sum of 'layerEpochs' or 'layerSteps'; remove 'steps' / 'epochs'.");
            if (Graph != "local") throw new ArgumentException($"{source}: the greedy schedule trains local rules layer by layer; graph '{Graph}' has one loss.");
            if (LayerEpochs is { } le && le.Any(e => !(e > 0))) throw new ArgumentException($"{source}: every entry of 'layerEpochs' must be above 0, got [{string.Join(", ", le)}].");
            if (LayerSteps is { } ls && ls.Any(x => x < 1)) throw new ArgumentException($"{source}: every entry of 'layerSteps' must be at least 1, got [{string.Join(", ", ls)}].");
            if (LayerEpochs is not null && Dataset.IsSynthetic) throw new ArgumentException($"{source}: 'layerEpochs' needs a data set; synthetic data takes 'layerSteps'.");
        }
        else if (layered)
            throw new ArgumentException($"{source}: 'layerEpochs' / 'layerSteps' belong to the greedy schedule; add \"schedule\": \"greedy\".");
        if (Batch < 2) throw new ArgumentException($"{source}: 'batch' must be at least 2 (each sample needs a negative), got {Batch}.");
        if (!(Optimizer.LearningRate > 0) || !float.IsFinite(Optimizer.LearningRate))
            throw new ArgumentException($"{source}: optimizer.learningRate must be a finite number above 0 (float32: at most 3.4e38), got {Optimizer.LearningRate}.");
        if (!(Optimizer.WeightDecay >= 0) || !float.IsFinite(Optimizer.WeightDecay))
            throw new ArgumentException($"{source}: optimizer.weightDecay must be a finite number, 0 or more, got {Optimizer.WeightDecay}.");
        if (AlignEvery > 0 && Graph == "backprop") throw new ArgumentException($"{source}: alignEvery measures a local rule against backprop; the backprop graph is the reference (set alignEvery 0 for it).");
        if (AlignEvery < 0) throw new ArgumentException($"{source}: alignEvery is 0 (off) or a number of steps, got {AlignEvery}.");
        if (CheckpointEvery < 0) throw new ArgumentException($"{source}: checkpointEvery is 0 (off) or a number of steps, got {CheckpointEvery}.");
        if (CheckpointKeep < 1) throw new ArgumentException($"{source}: checkpointKeep is how many complete checkpoints to keep, 1 or more; got {CheckpointKeep}.");
        if (Placement is not null)
        {
            try { Plastic.Sim.Distributed.Placement.Parse(Placement); }
            catch (ArgumentException e) { throw new ArgumentException($"{source}: placement: {e.Message}"); }
        }
        if (Augment is { } a)
        {
            if (a.MinScale is <= 0 or > 1) throw new ArgumentException($"{source}: augment.minScale must be in (0, 1], got {a.MinScale}.");
            if (a.Jitter is < 0) throw new ArgumentException($"{source}: augment.jitter must be 0 or more, got {a.Jitter}.");
            foreach (var (key, value) in new[] { ("jitterProbability", a.JitterProbability), ("grayscaleProbability", a.GrayscaleProbability), ("blurProbability", a.BlurProbability), ("flipProbability", a.FlipProbability) })
                if (value is < 0 or > 1) throw new ArgumentException($"{source}: augment.{key} is a probability, in [0, 1]; got {value}.");
        }
        if (Probe is { } p)
        {
            CheckProbeData(p, source);
            Plastic.Sim.Probes.ProbeProtocols.Parse(p.Protocol, $"{source}: probe.protocol");
            if (p.Epochs < 1 || p.OnlineEpochs < 1) throw new ArgumentException($"{source}: probe epochs must be at least 1.");
            if (p.TrainImages < 0 || p.TestImages < 0 || p.Knn < 0 || p.OnlineEvery < 0 || p.OnlineTrainImages < 1 || p.OnlineTestImages < 1)
                throw new ArgumentException($"{source}: probe image counts, knn and onlineEvery must not be negative (online image counts at least 1).");
        }
    }

    /// <summary>A probe trains and tests on labels: where the run's data set has none, probe.train and probe.test name labelled sets.</summary>
    private void CheckProbeData(RunProbeSpec p, string source)
    {
        const string Example = "\"probe\": { \"train\": { \"images\": \"path\", \"labels\": \"folders\" }, \"test\": { \"images\": \"path\", \"labels\": \"folders\" } } (or a catalogue name)";
        if (Dataset.IsSynthetic) throw new ArgumentException($"{source}: 'probe' needs a labelled data set, not synthetic data.");
        if (Dataset.IsFolder && Dataset.Labels is null && p.Train is null)
            throw new ArgumentException($"{source}: probe.train: the run's folder {Dataset.Images} has no labels, so the probe needs a labelled set: {Example}.");
        if (Dataset.IsFolder && p.Test is null)
            throw new ArgumentException($"{source}: probe.test: name the labelled set the probe is tested on (a folder's own images would test it on what it trained on): {Example}.");
        foreach (var (key, set) in new[] { ("probe.train", p.Train), ("probe.test", p.Test) })
            if (set is { IsFolder: true, Labels: null })
                throw new ArgumentException($"{source}: {key}: the folder {set.Images} has no labels; a probe needs them: add \"labels\": \"folders\" (one subfolder per class) or a CSV of file,label lines.");
    }

    /// <summary>The steps of the run: Steps, or Epochs of a training split of <paramref name="trainImages"/> images, or 20.</summary>
    public long StepsFor(int trainImages) =>
        LayerStepsFor(trainImages) is { } greedy ? greedy.Sum()
        : Steps ?? (Epochs is { } e ? Math.Max(1, (long)Math.Ceiling(e * trainImages / Batch)) : 20);

    /// <summary>The greedy schedule's steps per layer (layerSteps, or layerEpochs of the training split); null for the other schedules.</summary>
    public long[]? LayerStepsFor(int trainImages) =>
        LayerSteps ?? LayerEpochs?.Select(e => Math.Max(1, (long)Math.Ceiling(e * trainImages / Batch))).ToArray();

    /// <summary>Every key must be a property of the record it sits in (nested spec records are checked inside).</summary>
    private static void CheckKeys(JsonObject node, Type type, string prefix, string source)
    {
        var properties = type.GetProperties().ToDictionary(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name));
        foreach (var (key, value) in node)
        {
            if (!properties.TryGetValue(key, out var property))
                throw new ArgumentException($"{source}: unknown key '{prefix}{key}'. Known{(prefix.Length > 0 ? $" in {prefix.TrimEnd('.')}" : "")}: {string.Join(", ", properties.Keys)}.");
            // A type with its own converter (a data set: a name or a folder) checks its own keys.
            if (value is JsonObject inner && property.PropertyType.Namespace == typeof(RunSpec).Namespace
                && !property.PropertyType.IsDefined(typeof(JsonConverterAttribute), inherit: false))
                CheckKeys(inner, property.PropertyType, $"{prefix}{key}.", source);
        }
    }
}
