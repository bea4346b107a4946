using Plastic.Datasets.Catalog;

namespace Plastic.Datasets.Readers;

/// <summary>The labelled train and test splits of a catalogued data set (those present under the root).</summary>
public static class DatasetSplits
{
    public static LabelledImages Train(string root, string name) => name switch
    {
        "mnist" or "fashion-mnist" => MnistLabelled.Read(root, name, train: true),
        "cifar10" => Cifar10.ReadTrain(root, out _),
        "stl10" => Stl10.Read(root, "train"),
        "tiny-imagenet" => TinyImageNet.Read(root, "train"),
        _ => throw new ArgumentException($"Unknown data set '{name}'. Data sets: {string.Join(", ", DatasetCatalog.All.Select(d => d.Name))}."),
    };

    public static LabelledImages Test(string root, string name) => name switch
    {
        "mnist" or "fashion-mnist" => MnistLabelled.Read(root, name, train: false),
        "cifar10" => Cifar10.Read(Path.Combine(root, Cifar10.Folder, Cifar10.TestFile)),
        "stl10" => Stl10.Read(root, "test"),
        "tiny-imagenet" => TinyImageNet.Read(root, "val"),
        _ => throw new ArgumentException($"Unknown data set '{name}'."),
    };
}
