namespace Plastic.Datasets.Catalog;

/// <summary>
/// One file of a data set under the data root, with what it must be: its size (uncompressed) and the
/// published checksum of its content (SHA-256 or MD5, of the decompressed bytes for .gz files; the .gz
/// wrappers themselves differ between mirrors). A file may be stored raw or as name.gz.
/// </summary>
public sealed record DatasetFile(string Path, long? Bytes, string? Sha256 = null, string? Md5 = null, bool MayBeGzipped = false);

/// <summary>A data set: its folder, files and where its numbers come from.</summary>
public sealed record DatasetInfo(string Name, string Folder, string Description, IReadOnlyList<DatasetFile> Files, string ChecksumSource);

/// <summary>
/// The data sets Plastic knows, with the checksums published by their authors (CIFAR-10: SHA-256 of
/// each extracted batch; MNIST and Fashion-MNIST: MD5 of each decompressed IDX file, as torchvision and
/// the Mila registry list them; STL-10: sizes only, its checksum covers the 2.6 GB archive).
/// </summary>
public static class DatasetCatalog
{
    public static readonly IReadOnlyList<DatasetInfo> All =
    [
        new("mnist", "mnist", "MNIST, 60,000 + 10,000 handwritten digits, 28x28 grey, IDX",
        [
            new("train-images-idx3-ubyte", 47_040_016, Md5: "6bbc9ace898e44ae57da46a324031adb", MayBeGzipped: true),
            new("train-labels-idx1-ubyte", 60_008, Md5: "a25bea736e30d166cdddb491f175f624", MayBeGzipped: true),
            new("t10k-images-idx3-ubyte", 7_840_016, Md5: "2646ac647ad5339dbf082846283269ea", MayBeGzipped: true),
            new("t10k-labels-idx1-ubyte", 10_008, Md5: "27ae3e4e09519cfbb04c329615203637", MayBeGzipped: true),
        ], "MD5 of the decompressed files as published (torchvision mnist.py, Mila registry)"),
        new("fashion-mnist", "fashion-mnist", "Fashion-MNIST, 60,000 + 10,000 clothing images, 28x28 grey, IDX",
        [
            new("train-images-idx3-ubyte", 47_040_016, Md5: "f4a8712d7a061bf5bd6d2ca38dc4d50a", MayBeGzipped: true),
            new("train-labels-idx1-ubyte", 60_008, Md5: "9018921c3c673c538a1fc5bad174d6f9", MayBeGzipped: true),
            new("t10k-images-idx3-ubyte", 7_840_016, Md5: "8181f5470baa50b63fa0f6fddb340f0a", MayBeGzipped: true),
            new("t10k-labels-idx1-ubyte", 10_008, Md5: "15d484375f8d13e6eb1aabb0c3f46965", MayBeGzipped: true),
        ], "MD5 of the decompressed files (Mila registry annex keys)"),
        new("cifar10", "cifar-10-batches-bin", "CIFAR-10, 50,000 + 10,000 32x32 colour images, binary version",
        [
            new("data_batch_1.bin", 30_730_000, Sha256: "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5"),
            new("data_batch_2.bin", 30_730_000, Sha256: "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed"),
            new("data_batch_3.bin", 30_730_000, Sha256: "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67"),
            new("data_batch_4.bin", 30_730_000, Sha256: "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48"),
            new("data_batch_5.bin", 30_730_000, Sha256: "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add"),
            new("test_batch.bin", 30_730_000, Sha256: "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b"),
        ], "SHA-256 of the extracted batches of cifar-10-binary.tar.gz (torchvision-ruby, matching the authors' MD5s)"),
        Cifar100("cifar100", "fine labels, 100 classes"),
        Cifar100("cifar100-coarse", "coarse labels, the 20 superclasses"),
        new("stl10", "stl10_binary", "STL-10, 100,000 unlabelled (self-supervised training) + 5,000 train + 8,000 test 96x96 colour images, binary version",
        [
            new("train_X.bin", 138_240_000), new("train_y.bin", 5_000),
            new("test_X.bin", 221_184_000), new("test_y.bin", 8_000),
            new("unlabeled_X.bin", 2_764_800_000),
        ], "sizes only: the published checksum covers stl10_binary.tar.gz"),
        new("tiny-imagenet", "tiny-imagenet-200", "Tiny ImageNet, 100,000 train + 10,000 val 64x64 colour JPEGs, 200 classes",
        [
            new("wnids.txt", null), new("val/val_annotations.txt", null),
        ], "no per-file checksums (the published one covers tiny-imagenet-200.zip); the reader checks every image"),
    ];

    /// <summary>The MD5 and size of cifar-100-binary.tar.gz as published on the authors' page (and in the Mila registry); no per-file checksums are published.</summary>
    public const string Cifar100ArchiveMd5 = "03b5dce01913d631647c71ecec9e9cb8";
    public const long Cifar100ArchiveBytes = 168_513_733;

    /// <summary>CIFAR-100 under one of its two label sets: the same files, read with other labels.</summary>
    private static DatasetInfo Cifar100(string name, string labels) =>
        new(name, "cifar-100-binary", $"CIFAR-100, 50,000 + 10,000 32x32 colour images, binary version; {labels}",
        [
            new("train.bin", 153_700_000), new("test.bin", 30_740_000),
        ], $"sizes only: the published MD5 ({Cifar100ArchiveMd5}) covers cifar-100-binary.tar.gz ({Cifar100ArchiveBytes:N0} bytes), which plastic data fetch checks before it extracts");

    public static DatasetInfo ByName(string name) =>
        All.FirstOrDefault(d => d.Name == name)
        ?? throw new ArgumentException($"dataset '{name}': not a data set Plastic reads; data sets: {string.Join(", ", All.Select(d => d.Name))} (or synthetic).");
}
