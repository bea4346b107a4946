using Plastic.Datasets.Augment;
using Plastic.Datasets.Catalog;
using Plastic.Datasets.Readers;
using Plastic.Topology;

namespace Plastic.Experiments.Runs;

/// <summary>
/// A data set as a run reads it: the images self-supervised training sees (the spec's sslSplit; STL-10's
/// unlabelled split by default, PAPER.md 4.2), and when a probe needs them the probe's labelled training
/// split and its test split after the test transform (PAPER.md 4.4; else null), and the augmentation (the
/// preset with the run spec's changes), checked against the network. Where the self-supervised images are
/// the training split, both are the same object.
/// </summary>
public sealed record LabelledData(LabelledImages SelfSupervised, LabelledImages? ProbeTrain, LabelledImages? Test, AugmentSettings Augment)
{
    public static LabelledData Load(string name, string? root, NetworkSpec network, RunSpec run)
    {
        DatasetCatalog.ByName(name);
        string dir = DataRoot.Resolve(root);
        string split = DatasetSplits.SelfSupervisedSplit(name, run.SslSplit);
        LabelledImages ssl;
        LabelledImages? probeTrain = null, test = null;
        try
        {
            ssl = DatasetSplits.SelfSupervised(dir, name, split);
            if (run.Probe is not null)
            {
                probeTrain = split == "train" ? ssl : DatasetSplits.Train(dir, name);
                test = ProbeTestTransform.Apply(name, DatasetSplits.Test(dir, name));
            }
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException($"dataset {name}: {e.Message}"); }
        var settings = AugmentSettings.For(name);
        if (run.Augment is { } a)
            settings = settings with
            {
                MinScale = a.MinScale ?? settings.MinScale, Jitter = a.Jitter ?? settings.Jitter, JitterProbability = a.JitterProbability ?? settings.JitterProbability,
                GrayscaleProbability = a.GrayscaleProbability ?? settings.GrayscaleProbability, BlurProbability = a.BlurProbability ?? settings.BlurProbability,
                FlipProbability = a.FlipProbability ?? settings.FlipProbability,
            };
        int viewSize = ssl.Channels * settings.Size * settings.Size;
        if (viewSize != network.Input.Channels * network.Input.Height * network.Input.Width)
            throw new ArgumentException($"dataset {name}: its views are {ssl.Channels}x{settings.Size}x{settings.Size}; network {network.Name} takes {network.Input}.");
        if (ssl.Count < run.Batch) throw new ArgumentException($"dataset {name}: {ssl.Count} images in its {split} split, fewer than one batch of {run.Batch}.");
        return new LabelledData(ssl, probeTrain, test, settings);
    }
}
