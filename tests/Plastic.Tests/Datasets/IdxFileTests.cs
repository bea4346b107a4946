using System.IO.Compression;
using Plastic.Datasets.Idx;
using Plastic.Sim.Theory;

namespace Plastic.Tests.Datasets;

/// <summary>IDX reading on tiny files written here, every bad-input case named; MNIST itself only where PLASTIC_DATA has it.</summary>
public sealed class IdxFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("plastic-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Idx(byte type, int[] dims, byte[] data, byte zero = 0)
    {
        var bytes = new List<byte> { zero, 0, type, (byte)dims.Length };
        foreach (int d in dims) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return [.. bytes];
    }

    private string Write(string name, byte[] content, bool gzip = false)
    {
        string path = Path.Combine(_dir, name);
        if (!gzip) { File.WriteAllBytes(path, content); return path; }
        using var file = File.Create(path);
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(content);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_raw_and_gzip_files_and_only_the_records_asked_for(bool gzip)
    {
        var data = Enumerable.Range(0, 3 * 2 * 2).Select(i => (byte)i).ToArray();
        string path = Write(gzip ? "a.gz" : "a", Idx(0x08, [3, 2, 2], data), gzip);
        var all = IdxFile.Read(path);
        Assert.Equal([3, 2, 2], all.Dims);
        Assert.Equal(data, all.Data);
        var two = IdxFile.Read(path, 2);
        Assert.Equal([2, 2, 2], two.Dims);
        Assert.Equal(data.Take(8), two.Data);
    }

    [Fact]
    public void Bad_magic_wrong_type_truncation_and_missing_files_are_named()
    {
        var magic = Assert.Throws<InvalidDataException>(() => IdxFile.Read(Write("m", Idx(0x08, [1], [7], zero: 1))));
        Assert.Contains("offset 0", magic.Message);
        Assert.Contains("magic", magic.Message);
        var type = Assert.Throws<InvalidDataException>(() => IdxFile.Read(Write("t", Idx(0x0D, [1], [0, 0, 0, 0]))));
        Assert.Contains("element type 0x0d", type.Message);
        var truncated = Assert.Throws<InvalidDataException>(() => IdxFile.Read(Write("tr", Idx(0x08, [4, 3], [1, 2, 3, 4, 5]))));
        Assert.Contains("truncated at offset 17", truncated.Message);
        Assert.Contains("4 records of 3 bytes", truncated.Message);
        Assert.Throws<FileNotFoundException>(() => IdxFile.Read(Path.Combine(_dir, "none")));
        var shape = Assert.Throws<InvalidDataException>(() => Mnist.LoadImages(MnistRoot(Idx(0x08, [2, 5, 5], new byte[50])), 1));
        Assert.Contains("expected 28 x 28", shape.Message);
    }

    [Fact]
    public void Patch_pairs_take_the_top_and_bottom_patch_of_each_column_and_pair_with_the_next_sample()
    {
        // Two images whose pixel value encodes (image, row, column).
        var data = new byte[2 * 784];
        for (int i = 0; i < 2; i++) for (int r = 0; r < 28; r++) for (int c = 0; c < 28; c++) data[i * 784 + r * 28 + c] = (byte)(i * 100 + (r / 14) * 10 + c / 14);
        var images = Mnist.LoadImages(MnistRoot(Idx(0x08, [2, 28, 28], data)), 2);
        var batch = new MnistPatchPairs(images, 2).Batch(0);
        Assert.Equal([8, 196], batch.Views.Dims.ToArray());
        Assert.Equal([5, 6, 7, 0, 1, 2, 3, 4], batch.Negatives.ToArray()); // (r + 1 + N) mod 2N
        float Raw(int row) => batch.Views.Values[row * 196] * 0.3081f * 255f + 0.1307f * 255f;
        // Samples: image 0 left, image 1 left, image 0 right, image 1 right; views: top (rows 0-3), bottom (rows 4-7).
        Assert.Equal([0f, 100f, 1f, 101f, 10f, 110f, 11f, 111f], Enumerable.Range(0, 8).Select(r => MathF.Round(Raw(r))));
    }

    private string MnistRoot(byte[] images)
    {
        string root = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, "mnist"));
        File.WriteAllBytes(Path.Combine(root, "mnist", "train-images-idx3-ubyte"), images);
        return root;
    }

    [SkippableFact]
    public void Real_MNIST_reads_where_PLASTIC_DATA_has_it()
    {
        string? root = Environment.GetEnvironmentVariable("PLASTIC_DATA");
        Skip.If(root is null || !Directory.Exists(Path.Combine(root, "mnist")), "PLASTIC_DATA with mnist/ is not set");
        var images = Mnist.LoadImages(root!, 1024);
        Assert.Equal([1024, 28, 28], images.Dims);
        Assert.InRange(images.Data.Average(b => (double)b), 30, 40);   // MNIST's mean intensity is about 33
    }
}
