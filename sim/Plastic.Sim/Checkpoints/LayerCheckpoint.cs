using Plastic.Compute;
using Plastic.Datasets.Numpy;

namespace Plastic.Sim.Checkpoints;

/// <summary>
/// One layer's state after a step, as an .npz of float32 arrays: "p0".. the weight, bias and their
/// AdamW moments, "r0".. the rule's checkpoint state (B and its moments). Written to a temporary name
/// and renamed, so a file that exists is complete. The step count is not stored: every optimiser's step
/// index is derived from the training step.
/// </summary>
public static class LayerCheckpoint
{
    public static string FolderOf(string directory, long step) => Path.Combine(directory, $"step-{step:D8}");
    public const string CompleteMarker = "complete";

    public static void Write(string path, IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> rule)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var arrays = parameters.Select((t, i) => ($"p{i}", NpyArray.Of(t.ToArray(), [.. t.Shape.Dims])))
            .Concat(rule.Select((t, i) => ($"r{i}", NpyArray.Of(t.ToArray(), [.. t.Shape.Dims]))));
        Npy.WriteNpz(path, arrays);
    }

    public static void Load(string path, IComputeBackend backend, IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> rule)
    {
        var arrays = Npy.ReadNpz(path);
        void Into(string key, Tensor t)
        {
            if (!arrays.TryGetValue(key, out var a)) throw new InvalidDataException($"{path}: no array {key}; it was written by another network or rule.");
            if (a.Values.Length != t.Length) throw new InvalidDataException($"{path}: {key} holds {a.Values.Length} values, the layer's tensor {t.Length} ({t.Shape}).");
            backend.Upload(a.Values, t);
        }
        for (int i = 0; i < parameters.Count; i++) Into($"p{i}", parameters[i]);
        for (int i = 0; i < rule.Count; i++) Into($"r{i}", rule[i]);
        if (arrays.Count != parameters.Count + rule.Count)
            throw new InvalidDataException($"{path}: {arrays.Count} arrays; this layer and rule need {parameters.Count + rule.Count}.");
    }

    /// <summary>
    /// The last step whose checkpoint every layer finished (its folder has the marker), or null; with a tag,
    /// only checkpoints whose marker records that tag (another run's checkpoints are never taken).
    /// </summary>
    /// <remarks>A complete checkpoint with a damaged file (truncated, not an .npz) is passed over: see <see cref="DamagedNewerThan"/>.</remarks>
    public static long? LatestComplete(string directory, string? tag = null) =>
        Marked(directory, tag).Where(c => Damage(c.Folder) is null).Select(c => (long?)c.Step).Max();

    /// <summary>The complete checkpoints of the run newer than <paramref name="step"/> (null: all) that a resume passes over because a file is damaged, each with why.</summary>
    public static IReadOnlyList<(long Step, string Reason)> DamagedNewerThan(string directory, string? tag, long? step) =>
        [.. Marked(directory, tag).Where(c => c.Step > (step ?? -1)).Select(c => (c.Step, Reason: Damage(c.Folder))).Where(c => c.Reason is not null).OrderBy(c => c.Step)
            .Select(c => (c.Step, c.Reason!))];

    /// <summary>The checkpoint folders of the run with the completion marker.</summary>
    private static IEnumerable<(string Folder, long Step)> Marked(string directory, string? tag) =>
        !Directory.Exists(directory) ? [] : Directory.GetDirectories(directory, "step-*")
            .Where(d => File.Exists(Path.Combine(d, CompleteMarker)) && (tag is null || TagOf(Path.Combine(d, CompleteMarker)) == tag))
            .Select(d => (Folder: d, Step: long.TryParse(Path.GetFileName(d)["step-".Length..], out long s) ? s : -1))
            .Where(c => c.Step >= 0);

    /// <summary>Why a complete checkpoint cannot be loaded (the first layer file that does not read as an .npz), or null.</summary>
    private static string? Damage(string folder)
    {
        var files = Directory.GetFiles(folder, "*.npz");
        if (files.Length == 0) return $"{folder}: no layer files";
        if (NodesOf(Path.Combine(folder, CompleteMarker))?.FirstOrDefault(n => !File.Exists(Path.Combine(folder, $"{n}.npz"))) is { } missing)
            return $"{Path.Combine(folder, $"{missing}.npz")}: missing (the checkpoint lists it)";
        foreach (var file in files)
        {
            try { Npy.ReadNpz(file); }
            catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
            {
                return e.Message.Contains(file, StringComparison.Ordinal) ? e.Message : $"{file}: {e.Message}";
            }
        }
        return null;
    }

    /// <summary>
    /// Removes the checkpoints of this run older than the <paramref name="keep"/> newest complete ones, and
    /// incomplete ones older than the newest complete one (they will never complete). Newer folders, which
    /// layers may still be writing, are left alone.
    /// </summary>
    public static void Prune(string directory, int keep, string? tag)
    {
        if (keep < 1 || !Directory.Exists(directory)) return;
        var steps = Directory.GetDirectories(directory, "step-*")
            .Select(d => (Folder: d, Step: long.TryParse(Path.GetFileName(d)["step-".Length..], out long s) ? s : -1))
            .Where(x => x.Step >= 0).ToList();
        bool Complete(string folder) => File.Exists(Path.Combine(folder, CompleteMarker)) && (tag is null || TagOf(Path.Combine(folder, CompleteMarker)) == tag);
        var complete = steps.Where(x => Complete(x.Folder)).Select(x => x.Step).OrderDescending().ToList();
        if (complete.Count == 0) return;
        long oldestKept = complete[Math.Min(keep, complete.Count) - 1];
        foreach (var (folder, step) in steps)
            if (step < oldestKept) Directory.Delete(folder, recursive: true);
    }

    /// <summary>The marker's text: the step, the seed, the network, the run's tag and the nodes whose files make the checkpoint.</summary>
    public static string Marker(long step, ulong seed, string network, string? tag, IReadOnlyList<string>? nodes = null) =>
        System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["step"] = step, ["seed"] = seed, ["network"] = network, ["run"] = tag, ["nodes"] = nodes,
        }.Where(kv => kv.Value is not null).ToDictionary()) + "\n";

    /// <summary>The nodes the marker lists (null for a marker without the list, or a damaged one).</summary>
    private static IReadOnlyList<string>? NodesOf(string marker)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(marker));
            return doc.RootElement.TryGetProperty("nodes", out var nodes) ? [.. nodes.EnumerateArray().Select(n => n.GetString()!)] : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string? TagOf(string marker)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(marker));
            return doc.RootElement.TryGetProperty("run", out var run) ? run.GetString() : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // a damaged marker marks nothing
        }
    }
}
