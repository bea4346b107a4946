using System.Text.Json.Nodes;
using Plastic.Experiments.Runs;
using Plastic.Datasets.Readers;

namespace Plastic.Tests.Datasets;

/// <summary>
/// STL-10's self-supervised source (PAPER.md 4.2: the unlabelled split; unlabeled+train on request) against
/// the probe's labelled splits, on small STL-format files written here: every image of a split is one
/// constant value, so which split an image came from can be read off its pixels.
/// </summary>
public sealed class Stl10SplitTests : IDisposable
{
    private const int ImageBytes = 3 * 96 * 96;
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-stl10-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>split_X.bin with image i filled with first + i, and (labelled) split_y.bin with labels 1, 2, ..., 10, 1, ...</summary>
    internal static void WriteSplit(string root, string split, int count, int first, bool labelled = true)
    {
        string dir = Path.Combine(root, Stl10.Folder);
        Directory.CreateDirectory(dir);
        var x = new byte[count * ImageBytes];
        for (int i = 0; i < count; i++) x.AsSpan(i * ImageBytes, ImageBytes).Fill((byte)(first + i));
        File.WriteAllBytes(Path.Combine(dir, $"{split}_X.bin"), x);
        if (labelled) File.WriteAllBytes(Path.Combine(dir, $"{split}_y.bin"), Enumerable.Range(0, count).Select(i => (byte)(i % 10 + 1)).ToArray());
    }

    private void WriteAll()
    {
        WriteSplit(_root, "train", 5, first: 10);
        WriteSplit(_root, "test", 3, first: 50);
        WriteSplit(_root, "unlabeled", 7, first: 100, labelled: false);
    }

    private static byte[] FirstPixels(LabelledImages images) => Enumerable.Range(0, images.Count).Select(i => images.Image(i)[0]).ToArray();

    [Fact]
    public void The_self_supervised_source_of_stl10_is_the_unlabeled_split_and_the_probe_keeps_train_and_test()
    {
        WriteAll();
        var ssl = DatasetSplits.SelfSupervised(_root, "stl10");
        Assert.Equal(7, ssl.Count);
        Assert.Equal([100, 101, 102, 103, 104, 105, 106], FirstPixels(ssl));
        Assert.All(Enumerable.Range(0, ssl.Count), i => Assert.All(ssl.Image(i).ToArray(), v => Assert.Equal(100 + i, v)));
        Assert.False(ssl.HasLabels);
        Assert.All(ssl.Labels, l => Assert.Equal(0, l));
        Assert.Contains("unlabelled split has no classes", Assert.Throws<InvalidOperationException>(ssl.ClassCounts).Message);
        Assert.Equal([100, 101, 102, 103, 104, 105, 106], FirstPixels(DatasetSplits.SelfSupervised(_root, "stl10", "unlabeled")));

        var train = DatasetSplits.Train(_root, "stl10");
        Assert.Equal([10, 11, 12, 13, 14], FirstPixels(train));
        Assert.Equal([0, 1, 2, 3, 4], train.Labels);
        Assert.Equal([50, 51, 52], FirstPixels(DatasetSplits.Test(_root, "stl10")));
    }

    [Fact]
    public void Unlabeled_plus_train_gives_both_splits_in_that_order()
    {
        WriteAll();
        var both = DatasetSplits.SelfSupervised(_root, "stl10", "unlabeled+train");
        Assert.Equal(7 + 5, both.Count);
        Assert.Equal([100, 101, 102, 103, 104, 105, 106, 10, 11, 12, 13, 14], FirstPixels(both));
        Assert.False(both.HasLabels);   // half of them have none
        Assert.Equal(96, both.Height);
    }

    [Fact]
    public void A_missing_unlabeled_file_names_the_file_and_the_fix()
    {
        WriteSplit(_root, "train", 5, first: 10);
        WriteSplit(_root, "test", 3, first: 50);
        var e = Assert.Throws<FileNotFoundException>(() => DatasetSplits.SelfSupervised(_root, "stl10"));
        Assert.Equal(Path.Combine(_root, Stl10.Folder, "unlabeled_X.bin"), e.FileName);
        Assert.Contains($"no unlabeled_X.bin under {Path.Combine(_root, Stl10.Folder)}", e.Message);
        Assert.Contains("plastic data fetch stl10", e.Message);
        Assert.Contains("unlabeled_X.bin", Assert.Throws<FileNotFoundException>(() => DatasetSplits.SelfSupervised(_root, "stl10", "unlabeled+train")).Message);
        // The labelled splits still read: the probe does not need the unlabelled images.
        Assert.Equal(5, DatasetSplits.Train(_root, "stl10").Count);
    }

    [Fact]
    public void A_bad_ssl_split_names_the_key_the_file_and_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetSplits.SelfSupervisedSplit("stl10", "train"));
        Assert.Contains("sslSplit 'train'", e.Message);
        Assert.Contains("choose unlabeled or unlabeled+train", e.Message);
        Assert.Equal("unlabeled", DatasetSplits.SelfSupervisedSplit("stl10", null));
        Assert.Equal("train", DatasetSplits.SelfSupervisedSplit("cifar10", null));
        Assert.Contains("choose train", Assert.Throws<ArgumentException>(() => DatasetSplits.SelfSupervisedSplit("cifar10", "unlabeled")).Message);

        var spec = RunSpec.From(new JsonObject { ["network"] = "x", ["dataset"] = "stl10", ["sslSplit"] = "unlabeled+train" }, "spec.json");
        Assert.Equal("unlabeled+train", spec.SslSplit);
        e = Assert.Throws<ArgumentException>(() => RunSpec.From(new JsonObject { ["network"] = "x", ["dataset"] = "stl10", ["sslSplit"] = "all" }, "spec.json"));
        Assert.Contains("spec.json: sslSplit 'all' is not a split of stl10; choose unlabeled or unlabeled+train (default unlabeled)", e.Message);
        Assert.Contains("synthetic data has none", Assert.Throws<ArgumentException>(() => RunSpec.From(new JsonObject { ["network"] = "x", ["sslSplit"] = "unlabeled" }, "spec.json")).Message);
    }

    [Fact]
    public void Images_spread_over_several_pixel_blocks_are_found_and_concatenation_shares_them()
    {
        byte[] Block(params byte[] values) => values.SelectMany(v => new[] { v, v }).ToArray();   // images of 1x1x2
        var a = new LabelledImages("a", [Block(1, 2), Block(3), Block(4, 5, 6)], [0, 1, 0, 1, 0, 1], 1, 1, 2, 2, hasLabels: true);
        Assert.Equal([1, 2, 3, 4, 5, 6], Enumerable.Range(0, 6).Select(i => a.Image(i)[1]));
        var b = LabelledImages.Concatenate("ab", [a, new LabelledImages("b", Block(7), [1], 1, 1, 2, 2)]);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], Enumerable.Range(0, 7).Select(i => b.Image(i)[0]));
        Assert.Equal([0, 1, 0, 1, 0, 1, 1], b.Labels);
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Image(7));
        Assert.Contains("not a whole number", Assert.Throws<InvalidDataException>(() => new LabelledImages("c", [new byte[3], new byte[1]], [0, 0], 1, 1, 2, 2, hasLabels: true)).Message);
        Assert.Contains("expected 0 (no labels)", Assert.Throws<InvalidDataException>(() => new LabelledImages("d", [Block(1)], [1], 1, 1, 2, 2, hasLabels: false)).Message);
    }
}
