using System.Security.Cryptography;
using Plastic.Datasets.Catalog;
using Plastic.Datasets.Readers;

namespace Plastic.Tests.Datasets;

/// <summary>CIFAR-10, STL-10 and MNIST readers and the verifier on tiny files made here; the real data sets where PLASTIC_DATA has them.</summary>
public sealed class ReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-data-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string relative, byte[] bytes)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] CifarRecords(params byte[] labels) =>
        labels.SelectMany((label, i) => new[] { label }.Concat(Enumerable.Range(0, 3072).Select(p => (byte)((p + 7 * i) % 251)))).ToArray();

    [Fact]
    public void Cifar10_records_are_split_into_labels_and_planes_and_bad_files_are_named()
    {
        var images = Cifar10.Read(Write("cifar-10-batches-bin/test_batch.bin", CifarRecords(3, 9, 0)));
        Assert.Equal([3, 9, 0], images.Labels);
        Assert.Equal((byte)((1024 + 7) % 251), images.Image(1)[1024]);   // record 1, first green byte
        Assert.Equal([1, 0, 0, 1, 0, 0, 0, 0, 0, 1], images.ClassCounts());

        var truncated = Assert.Throws<InvalidDataException>(() => Cifar10.Read(Write("t.bin", CifarRecords(1, 2)[..5000])));
        Assert.Contains("not a whole number of 3073-byte records", truncated.Message);
        Assert.Contains("offset 3073", truncated.Message);
        var label = Assert.Throws<InvalidDataException>(() => Cifar10.Read(Write("l.bin", CifarRecords(1, 12))));
        Assert.Contains("record 1 (offset 3073) has label 12", label.Message);
        Assert.Throws<FileNotFoundException>(() => Cifar10.Read(Path.Combine(_root, "none.bin")));
    }

    [Fact]
    public void Stl10_planes_are_transposed_from_column_major_and_labels_shifted_to_start_at_0()
    {
        var x = new byte[2 * 3 * 96 * 96];
        x[0 * 96 + 5] = 200;                   // image 0, red, column 0, row 5
        x[27648 + 2 * 9216 + 3 * 96 + 1] = 77; // image 1, blue, column 3, row 1
        Write("stl10_binary/train_X.bin", x);
        Write("stl10_binary/train_y.bin", [1, 10]);
        var images = Stl10.Read(_root, "train");
        Assert.Equal([0, 9], images.Labels);
        Assert.Equal(200, images.Image(0)[5 * 96 + 0]);
        Assert.Equal(77, images.Image(1)[2 * 9216 + 1 * 96 + 3]);
        Write("stl10_binary/test_X.bin", new byte[27648]);
        Write("stl10_binary/test_y.bin", [11]);
        Assert.Contains("record 0 (offset 0) has label 11; expected 1 to 10", Assert.Throws<InvalidDataException>(() => Stl10.Read(_root, "test")).Message);
    }

    [Fact]
    public void The_verifier_reports_verified_mismatched_and_missing_files_and_statistics_are_exact()
    {
        var good = CifarRecords(1, 2);
        Write("set/a.bin", good);
        Write("set/b.bin", good);
        string sha = Convert.ToHexStringLower(SHA256.HashData(good));
        var set = new DatasetInfo("toy", "set", "toy", [new("a.bin", good.Length, Sha256: sha), new("b.bin", good.Length, Sha256: new string('0', 64)), new("c.bin", 1)], "test");
        var checks = Verifier.Verify(_root, set);
        Assert.Equal([FileState.Verified, FileState.Mismatch, FileState.Missing], checks.Select(c => c.State));
        Assert.Contains("expected 0000", checks[1].Detail);

        var images = new LabelledImages("toy", [0, 255, 255, 255], [0, 1], 1, 1, 2, 2);
        var (mean, std) = images.ChannelStatistics();
        Assert.Equal(0.75, mean[0], 12);
        Assert.Equal(Math.Sqrt(0.75 - 0.5625), std[0], 12);
        Assert.Contains("record 1 has label 2", Assert.Throws<InvalidDataException>(() => new LabelledImages("toy", [0, 0], [0, 2], 1, 1, 1, 2)).Message);
    }

    [Fact]
    public void The_data_root_comes_from_the_option_then_the_environment_then_the_user_cache()
    {
        Assert.Equal(Path.GetFullPath("some/where"), DataRoot.Resolve("some/where"));
        if (Environment.GetEnvironmentVariable(DataRoot.Variable) is null)
            Assert.EndsWith(Path.Combine("plastic", "data"), DataRoot.Resolve(null));
        Assert.Contains("dataset 'svhn': not a data set", Assert.Throws<ArgumentException>(() => DatasetCatalog.ByName("svhn")).Message);
    }

    [SkippableFact]
    public void The_real_data_sets_under_PLASTIC_DATA_verify_with_their_published_counts()
    {
        string? root = Environment.GetEnvironmentVariable(DataRoot.Variable);
        Skip.If(root is null || !Directory.Exists(Path.Combine(root, "mnist")), "PLASTIC_DATA is not set");
        Assert.All(Verifier.Verify(root!, DatasetCatalog.ByName("mnist")), c => Assert.Equal(FileState.Verified, c.State));
        var mnist = DatasetSplits.Train(root!, "mnist");
        Assert.Equal([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949], mnist.ClassCounts());
        Assert.Equal(0.1307, mnist.ChannelStatistics().Mean[0], 4);
        var cifar = Verifier.Verify(root!, DatasetCatalog.ByName("cifar10"));
        Assert.DoesNotContain(cifar, c => c.State == FileState.Mismatch);
        Assert.Contains(cifar, c => c.State == FileState.Verified);
    }
}
