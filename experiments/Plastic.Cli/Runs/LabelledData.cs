using Plastic.Datasets.Augment;
using Plastic.Datasets.Catalog;
using Plastic.Datasets.Readers;
using Plastic.Topology;

namespace Plastic.Cli.Runs;

/// <summary>
/// A data set's training split, its test split when a probe needs it (else null), and its augmentation (the
/// preset with the run spec's changes), checked against the network.
/// </summary>
public sealed record LabelledData(LabelledImages Train, LabelledImages? Test, AugmentSettings Augment)
{
    public static LabelledData Load(string name, string? root, NetworkSpec network, RunSpec run)
    {
        DatasetCatalog.ByName(name);
        string dir = DataRoot.Resolve(root);
        LabelledImages train;
        LabelledImages? test;
        try { (train, test) = (DatasetSplits.Train(dir, name), run.Probe is null ? null : DatasetSplits.Test(dir, name)); }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException($"dataset {name}: {e.Message} (plastic data fetch {name})"); }
        var settings = AugmentSettings.For(name);
        if (run.Augment is { } a)
            settings = settings with
            {
                MinScale = a.MinScale ?? settings.MinScale, Jitter = a.Jitter ?? settings.Jitter, JitterProbability = a.JitterProbability ?? settings.JitterProbability,
                GrayscaleProbability = a.GrayscaleProbability ?? settings.GrayscaleProbability, BlurProbability = a.BlurProbability ?? settings.BlurProbability,
                FlipProbability = a.FlipProbability ?? settings.FlipProbability,
            };
        int viewSize = train.Channels * settings.Size * settings.Size;
        if (viewSize != network.Input.Channels * network.Input.Height * network.Input.Width)
            throw new ArgumentException($"dataset {name}: its views are {train.Channels}x{settings.Size}x{settings.Size}; network {network.Name} takes {network.Input}.");
        if (train.Count < run.Batch) throw new ArgumentException($"dataset {name}: {train.Count} images, fewer than one batch of {run.Batch}.");
        return new LabelledData(train, test, settings);
    }
}
