using System.Text.Json.Nodes;
using Plastic.Datasets.Augment;
using Plastic.Datasets.Catalog;
using Plastic.Datasets.Readers;
using Plastic.Topology;

namespace Plastic.Experiments.Runs;

/// <summary>
/// A data set as a run reads it: the images self-supervised training sees (the spec's sslSplit; STL-10's
/// unlabelled split by default, PAPER.md 4.2; or a folder of images), and when a probe needs them the probe's
/// labelled training set and its test set after the test transform (PAPER.md 4.4; a catalogue set's splits
/// or the probe's own train / test sets; else null), and the augmentation (the preset with the run spec's
/// changes, or for a folder one made from its size and its own mean and std), checked against the network.
/// Where the self-supervised images are the training split, both are the same object. <see cref="Folders"/>
/// are the image folders read, by role, and <see cref="Spec"/> the run spec with their paths made absolute.
/// </summary>
public sealed record LabelledData(LabelledImages SelfSupervised, LabelledImages? ProbeTrain, LabelledImages? Test, AugmentSettings Augment)
{
    public IReadOnlyList<(string Role, ImageFolderData Folder)> Folders { get; init; } = [];

    public required RunSpec Spec { get; init; }

    public static LabelledData Load(RunSpec run, string specDir, string? root, NetworkSpec network, Action<string>? log = null)
    {
        log ??= _ => { };
        string dir = DataRoot.Resolve(root);
        var folders = new List<(string, ImageFolderData)>();
        var dataset = Resolve(run.Dataset, "dataset", specDir, dir);
        var probeTrainSet = run.Probe?.Train is { } t ? Resolve(t, "probe.train", specDir, dir) : null;
        var probeTestSet = run.Probe?.Test is { } u ? Resolve(u, "probe.test", specDir, dir) : null;
        LabelledImages ssl;
        LabelledImages? probeTrain = null, test = null;
        AugmentSettings settings;
        string split = "train";
        if (dataset.IsFolder)
        {
            var folder = ReadFolder(dataset, "dataset", network, log);
            folders.Add(("dataset", folder));
            ssl = folder.Images;
            settings = ForFolder(folder.Manifest);
        }
        else
        {
            string name = dataset.Name!;
            split = DatasetSplits.SelfSupervisedSplit(name, run.SslSplit);
            ssl = Catalogue(name, "dataset", () => DatasetSplits.SelfSupervised(dir, name, split));
            settings = AugmentSettings.For(name);
        }
        if (run.Probe is not null)
        {
            probeTrain = probeTrainSet is null ? (split == "train" ? ssl : Catalogue(dataset.Name!, "dataset", () => DatasetSplits.Train(dir, dataset.Name!)))
                : ProbeSet(probeTrainSet, "probe.train", train: true, dir, network, log, folders);
            test = probeTestSet is null ? Catalogue(dataset.Name!, "dataset", () => ProbeTestTransform.Apply(dataset.Name!, DatasetSplits.Test(dir, dataset.Name!)))
                : ProbeSet(probeTestSet, "probe.test", train: false, dir, network, log, folders);
            CheckClasses(probeTrain, test, folders);
        }
        if (run.Augment is { } a)
            settings = settings with
            {
                MinScale = a.MinScale ?? settings.MinScale, Jitter = a.Jitter ?? settings.Jitter, JitterProbability = a.JitterProbability ?? settings.JitterProbability,
                GrayscaleProbability = a.GrayscaleProbability ?? settings.GrayscaleProbability, BlurProbability = a.BlurProbability ?? settings.BlurProbability,
                FlipProbability = a.FlipProbability ?? settings.FlipProbability,
            };
        int viewSize = ssl.Channels * settings.Size * settings.Size;
        if (viewSize != network.Input.Channels * network.Input.Height * network.Input.Width)
            throw new ArgumentException($"dataset {dataset}: its views are {ssl.Channels}x{settings.Size}x{settings.Size}; network {network.Name} takes {network.Input}.");
        foreach (var (key, set) in new[] { ("probe.train", probeTrain), ("probe.test", test) })
            if (set is not null && set.ImageSize != viewSize)
                throw new ArgumentException($"{key} {set.Source}: its images are {set.Channels}x{set.Height}x{set.Width}; network {network.Name} takes {network.Input}.");
        if (ssl.Count < run.Batch) throw new ArgumentException($"dataset {dataset}: {ssl.Count} images{(dataset.IsFolder ? "" : $" in its {split} split")}, fewer than one batch of {run.Batch}.");
        var spec = run with
        {
            Dataset = dataset,
            SslSplit = dataset.IsFolder ? null : split,
            Probe = run.Probe is null ? null : run.Probe with { Train = probeTrainSet, Test = probeTestSet },
        };
        return new LabelledData(ssl, probeTrain, test, settings) { Folders = folders, Spec = spec };
    }

    /// <summary>The image folders read, by role, as config.resolved.json records them: count, classes, skipped files, mean and std.</summary>
    public JsonObject? FolderRecord()
    {
        if (Folders.Count == 0) return null;
        var record = new JsonObject();
        foreach (var (role, folder) in Folders)
        {
            var m = folder.Manifest;
            record[role] = new JsonObject
            {
                ["images"] = m.Root,
                ["count"] = m.Kept,
                ["classes"] = new JsonArray([.. m.Classes.Select(c => (JsonNode?)c)]),
                ["skipped"] = new JsonArray([.. folder.Skipped.Select(s => (JsonNode?)s.Path)]),
                ["size"] = $"{m.Channels}x{m.Crop}x{m.Crop}",
                ["resize"] = m.Resize,
                ["mean"] = new JsonArray([.. m.Mean.Select(v => (JsonNode?)v)]),
                ["std"] = new JsonArray([.. m.Std.Select(v => (JsonNode?)v)]),
            };
        }
        return record;
    }

    /// <summary>
    /// A folder's augmentation: PAPER.md 4.2's views at the network's input side, the crop scale of the
    /// paper's sets of that size (0.25 at 32 px and less, as CIFAR-10; 0.08 above, as STL-10 and Tiny
    /// ImageNet), the blur kernel ~0.1 x size rounded down to odd (3 at 32, 7 at 64, 9 at 96, as the paper's),
    /// normalised by the folder's own per-channel mean and std.
    /// </summary>
    public static AugmentSettings ForFolder(ImageFolderManifest m) =>
        new(m.Crop, m.Crop <= 32 ? 0.25 : 0.08, m.Mean, [.. m.Std.Select(s => s > 0 ? s : 1)], Math.Max(3, (int)(0.1 * m.Crop) | 1));

    /// <summary>A folder's paths made absolute: the images from the current folder, the run spec's folder or the data root (first found); a label CSV from the current folder, the spec's folder or the images folder.</summary>
    private static DatasetRef Resolve(DatasetRef set, string key, string specDir, string dataRoot)
    {
        if (!set.IsFolder) return set;
        string images = Find(set.Images!, [Directory.GetCurrentDirectory(), specDir, dataRoot], Directory.Exists, File.Exists,
            $"{key}.images '{set.Images}'", "no such folder", "is a file; name the folder that holds the images");
        string? labels = set.Labels is null or "folders" ? set.Labels
            : Find(set.Labels, [Directory.GetCurrentDirectory(), specDir, images], File.Exists, Directory.Exists,
                $"{key}.labels '{set.Labels}'", "neither \"folders\" nor a label file", "is a folder; labels are \"folders\" or a CSV file of file,label lines");
        return set with { Images = images, Labels = labels };
    }

    private static string Find(string given, string[] bases, Func<string, bool> wanted, Func<string, bool> wrongKind, string what, string missing, string wrong)
    {
        List<string> candidates = Path.IsPathRooted(given) ? [Path.GetFullPath(given)] : [.. bases.Select(b => Path.GetFullPath(Path.Combine(b, given))).Distinct()];
        if (candidates.FirstOrDefault(wanted) is { } found) return found;
        if (candidates.FirstOrDefault(wrongKind) is { } other) throw new ArgumentException($"{what}: {other} {wrong}.");
        throw new ArgumentException($"{what}: {missing} (looked for {string.Join(", ", candidates)}).");
    }

    /// <summary>
    /// A folder of images (paths relative to the current folder) read for <paramref name="network"/>'s input
    /// through its cache, logged; <paramref name="key"/> names it in errors (`plastic probe --train`).
    /// </summary>
    public static ImageFolderData ReadFolder(DatasetRef set, string key, NetworkSpec network, Action<string> log, string? dataRoot = null) =>
        ReadFolder(Resolve(set, key, Directory.GetCurrentDirectory(), DataRoot.Resolve(dataRoot)), key, network, log);

    private static ImageFolderData ReadFolder(DatasetRef set, string key, NetworkSpec network, Action<string> log)
    {
        var input = network.Input;
        if (input.Channels is not (1 or 3) || input.Height != input.Width)
            throw new ArgumentException($"{key} {set.Images}: images are read as square grey or RGB crops; network {network.Name} takes {input}.");
        var source = new ImageFolderSource(set.Images!, set.Labels, input.Channels, set.Resize ?? input.Height, input.Height, set.Strict);
        ImageFolderData folder;
        try { folder = ImageFolderCache.Open(source, log, DecodeProgress.For(log)); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException) { throw new ArgumentException($"{key}: {e.Message}"); }
        var m = folder.Manifest;
        string F(double[] v) => string.Join(" ", v.Select(x => x.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)));
        log($"{key} {set.Images}: {m.Kept:N0} images{(m.Classes.Count > 0 ? $" of {m.Classes.Count} classes" : ", no labels")}" +
            $"{(folder.Skipped.Count > 0 ? $", {folder.Skipped.Count} skipped" : "")}; sizes met {string.Join(", ", m.Sizes().Take(4).Select(s => $"{s.Width}x{s.Height} ({s.Count})"))}" +
            $"{(m.Sizes().Count > 4 ? $" and {m.Sizes().Count - 4} more" : "")}; mean {F(m.Mean)}, std {F(m.Std)}");
        return folder;
    }

    /// <summary>A probe's set: a catalogue set's train or test split (the test transform applied), or a labelled folder.</summary>
    private static LabelledImages ProbeSet(DatasetRef set, string key, bool train, string dir, NetworkSpec network, Action<string> log, List<(string, ImageFolderData)> folders)
    {
        if (!set.IsFolder)
        {
            string name = set.Name!;
            return Catalogue(name, key, () => train ? DatasetSplits.Train(dir, name) : ProbeTestTransform.Apply(name, DatasetSplits.Test(dir, name)));
        }
        var folder = ReadFolder(set, key, network, log);
        folders.Add((key, folder));
        return folder.Images;
    }

    /// <summary>The probe's train and test sets must share their classes (by name, where both are folders).</summary>
    private static void CheckClasses(LabelledImages train, LabelledImages test, List<(string Role, ImageFolderData Folder)> folders)
    {
        var names = folders.ToDictionary(f => f.Folder.Images, f => f.Folder.Manifest.Classes);
        if (names.TryGetValue(train, out var a) && names.TryGetValue(test, out var b) && !a.SequenceEqual(b))
        {
            var onlyTrain = a.Except(b).Take(5).ToList();
            var onlyTest = b.Except(a).Take(5).ToList();
            throw new ArgumentException($"probe: the train set {train.Source} and the test set {test.Source} have other classes" +
                $"{(onlyTrain.Count > 0 ? $"; only in train: {string.Join(", ", onlyTrain)}" : "")}{(onlyTest.Count > 0 ? $"; only in test: {string.Join(", ", onlyTest)}" : "")}.");
        }
        if (train.Classes != test.Classes)
            throw new ArgumentException($"probe: the train set {train.Source} has {train.Classes} classes, the test set {test.Source} {test.Classes}.");
    }

    private static LabelledImages Catalogue(string name, string key, Func<LabelledImages> read)
    {
        DatasetCatalog.ByName(name);
        try { return read(); }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException($"{key} {name}: {e.Message}"); }
    }
}
