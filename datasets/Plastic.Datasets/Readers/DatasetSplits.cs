using Plastic.Datasets.Catalog;

namespace Plastic.Datasets.Readers;

/// <summary>
/// The splits of a catalogued data set (those present under the root): the labelled train and test splits
/// of the linear probe (PAPER.md 4.4), and the images self-supervised training reads (PAPER.md 4.2). A
/// missing or malformed file is an error that says how to get it.
/// </summary>
public static class DatasetSplits
{
    public static LabelledImages Train(string root, string name) => Fixable(name, () => name switch
    {
        "mnist" or "fashion-mnist" => MnistLabelled.Read(root, name, train: true),
        "cifar10" => Cifar10.ReadTrain(root, out _),
        Cifar100.Fine or Cifar100.Coarse => Cifar100.ReadSplit(root, train: true, coarse: name == Cifar100.Coarse),
        "stl10" => Stl10.Read(root, "train"),
        "tiny-imagenet" => TinyImageNet.Read(root, "train"),
        _ => throw new ArgumentException($"dataset '{name}': not a data set Plastic reads; data sets: {string.Join(", ", DatasetCatalog.All.Select(d => d.Name))}."),
    });

    public static LabelledImages Test(string root, string name) => Fixable(name, () => name switch
    {
        "mnist" or "fashion-mnist" => MnistLabelled.Read(root, name, train: false),
        "cifar10" => Cifar10.Read(Path.Combine(root, Cifar10.Folder, Cifar10.TestFile)),
        Cifar100.Fine or Cifar100.Coarse => Cifar100.ReadSplit(root, train: false, coarse: name == Cifar100.Coarse),
        "stl10" => Stl10.Read(root, "test"),
        "tiny-imagenet" => TinyImageNet.Read(root, "val"),
        _ => throw new ArgumentException($"dataset '{name}': not a data set Plastic reads."),
    });

    /// <summary>
    /// The values of a run spec's sslSplit for a data set, the default first. STL-10 trains on its
    /// 100,000 unlabelled images, as the paper does; unlabeled+train adds the 5,000 labelled training
    /// images (the released code's --merge_train_unlabeled, off in the paper's runs). The others have
    /// one training split.
    /// </summary>
    public static IReadOnlyList<string> SelfSupervisedSplits(string name)
    {
        DatasetCatalog.ByName(name);
        return name == "stl10" ? [Stl10.Unlabeled, Stl10.Unlabeled + "+train"] : ["train"];
    }

    /// <summary><paramref name="split"/> checked against the data set's choices (null: the default).</summary>
    public static string SelfSupervisedSplit(string name, string? split)
    {
        var allowed = SelfSupervisedSplits(name);
        if (split is null) return allowed[0];
        return allowed.Contains(split) ? split
            : throw new ArgumentException($"sslSplit '{split}' is not a split of {name}; choose {string.Join(" or ", allowed)} (default {allowed[0]}).");
    }

    /// <summary>The images self-supervised training reads (labels, where there are any, are not used).</summary>
    public static LabelledImages SelfSupervised(string root, string name, string? split = null) =>
        SelfSupervisedSplit(name, split) switch
        {
            "unlabeled" => Fixable(name, () => Stl10.Read(root, Stl10.Unlabeled)),
            "unlabeled+train" => Fixable(name, () => LabelledImages.Concatenate(Path.Combine(root, Stl10.Folder, "unlabeled+train"),
                [Stl10.Read(root, Stl10.Unlabeled), Stl10.Read(root, "train")])),
            _ => Train(root, name),
        };

    /// <summary>A reader's missing or malformed file, with what to do about it.</summary>
    private static LabelledImages Fixable(string name, Func<LabelledImages> read)
    {
        string fetch = name == "tiny-imagenet"
            ? "plastic does not fetch Tiny ImageNet: unpack tiny-imagenet-200.zip under the data root"
            : $"plastic data fetch {name} downloads it";
        try { return read(); }
        catch (FileNotFoundException e) { throw new FileNotFoundException($"{e.Message} Fix: {fetch}.", e.FileName, e); }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException(name == "tiny-imagenet" ? e.Message
                : $"{e.Message} Fix: plastic data verify {name} checks the files against their published sizes and checksums; plastic data fetch {name} replaces those that differ.", e);
        }
    }
}
