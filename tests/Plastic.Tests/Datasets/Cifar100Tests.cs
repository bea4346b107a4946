using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using Plastic.Datasets.Catalog;
using Plastic.Datasets.Fetch;
using Plastic.Datasets.Readers;

namespace Plastic.Tests.Datasets;

/// <summary>
/// CIFAR-100 on files these tests write in its binary format (records of coarse label, fine label, 3072
/// planar pixels): both label sets, the splits a run reads, bad files named, and the fetch: the archive
/// checked against the published MD5 before anything is written, and its files extracted and verified.
/// </summary>
[Collection("Console")]
public sealed class Cifar100Tests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-cifar100-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Record i: coarse label i % 20, fine label (7 i) % 100, pixel p = (i + p) % 251.</summary>
    private static byte[] Records(int count)
    {
        var bytes = new byte[count * Cifar100.RecordBytes];
        for (int i = 0; i < count; i++)
        {
            int at = i * Cifar100.RecordBytes;
            bytes[at] = (byte)(i % 20);
            bytes[at + 1] = (byte)(7 * i % 100);
            for (int p = 0; p < 3072; p++) bytes[at + 2 + p] = (byte)((i + p) % 251);
        }
        return bytes;
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_root, Cifar100.Folder, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Both_label_sets_and_the_pixels_are_read_as_written()
    {
        Write(Cifar100.TrainFile, Records(30));
        Write(Cifar100.TestFile, Records(10));
        var fine = DatasetSplits.Train(_root, "cifar100");
        var coarse = DatasetSplits.Train(_root, "cifar100-coarse");
        Assert.Equal((30, 100, 3, 32, 32), (fine.Count, fine.Classes, fine.Channels, fine.Height, fine.Width));
        Assert.Equal(20, coarse.Classes);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (byte)(7 * i % 100)), fine.Labels);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (byte)(i % 20)), coarse.Labels);
        Assert.Equal(Enumerable.Range(0, 3072).Select(p => (byte)((13 + p) % 251)), fine.Image(13).ToArray());
        Assert.Equal(10, DatasetSplits.Test(_root, "cifar100").Count);
        Assert.Equal(0.25, Plastic.Datasets.Augment.AugmentSettings.For("cifar100").MinScale);
    }

    [Fact]
    public void Bad_files_are_named_with_what_was_expected()
    {
        var bytes = Records(3);
        bytes[Cifar100.RecordBytes + 1] = 100;   // record 1's fine label
        string path = Write(Cifar100.TrainFile, bytes);
        Assert.Contains($"{path}: record 1 (offset {Cifar100.RecordBytes + 1}) has fine label 100; expected 0 to 99",
            Assert.Throws<InvalidDataException>(() => DatasetSplits.Train(_root, "cifar100")).Message);
        bytes[Cifar100.RecordBytes + 1] = 5;
        bytes[2 * Cifar100.RecordBytes] = 20;     // record 2's coarse label
        Write(Cifar100.TrainFile, bytes);
        Assert.Contains("record 2 (offset 6148) has coarse label 20; expected 0 to 19", Assert.Throws<InvalidDataException>(() => DatasetSplits.Train(_root, "cifar100-coarse")).Message);
        Write(Cifar100.TrainFile, bytes[..5000]);
        Assert.Contains("5000 bytes is not a whole number of 3074-byte records", Assert.Throws<InvalidDataException>(() => DatasetSplits.Train(_root, "cifar100")).Message);
        File.Delete(path);
        Assert.Contains("Fix: plastic data fetch cifar100 downloads it", Assert.Throws<FileNotFoundException>(() => DatasetSplits.Train(_root, "cifar100")).Message);
    }

    [Fact]
    public async Task The_fetch_refuses_an_archive_that_is_not_the_published_one_and_writes_nothing()
    {
        var archive = Archive(("cifar-100-binary/train.bin", Records(4)), ("cifar-100-binary/test.bin", Records(2)));
        var requested = new List<Uri>();
        using var http = new HttpClient(new Serving(archive, requested));
        var fetcher = new DatasetFetcher(_root, http, _ => { });
        var e = await Assert.ThrowsAsync<DownloadException>(() => fetcher.FetchAsync(DatasetCatalog.ByName("cifar100")));
        Assert.Equal("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", Assert.Single(requested).ToString());
        Assert.Contains($"expected {DatasetCatalog.Cifar100ArchiveBytes:N0}", e.Message);   // the size is checked first, then the MD5
        Assert.Empty(Directory.GetFiles(_root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_checked_archive_is_extracted_file_by_file_and_read_back()
    {
        string archive = Path.Combine(_root, "cifar-100-binary.tar.gz");
        File.WriteAllBytes(archive, Archive(("cifar-100-binary/fine_label_names.txt", "apple\n"u8.ToArray()),
            ("cifar-100-binary/train.bin", Records(6)), ("cifar-100-binary/test.bin", Records(3))));
        // The catalogue's entry with the sizes of these small files (the published ones are 153,700,000 and 30,740,000 bytes).
        var set = DatasetCatalog.ByName("cifar100");
        set = set with { Files = [new("train.bin", 6 * Cifar100.RecordBytes), new("test.bin", 3 * Cifar100.RecordBytes)] };
        var log = new List<string>();
        await new DatasetFetcher(_root, new HttpClient(), log.Add).ExtractAsync(set, archive, "cifar-100-binary/");
        Assert.Equal(6, DatasetSplits.Train(_root, "cifar100").Count);
        Assert.Equal(3, DatasetSplits.Test(_root, "cifar100-coarse").Count);
        Assert.Contains(log, l => l.Contains("train.bin: ", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(_root, "*.partial", SearchOption.AllDirectories));
        var short_ = set with { Files = [.. set.Files, new("meta.bin", 1)] };
        Assert.Contains("holds no cifar-100-binary/meta.bin", (await Assert.ThrowsAsync<DownloadException>(() =>
            new DatasetFetcher(_root, new HttpClient(), _ => { }).ExtractAsync(short_, archive, "cifar-100-binary/"))).Message);
    }

    [Fact]
    public void A_run_pre_trains_on_it_and_probes_the_fine_classes()
    {
        Write(Cifar100.TrainFile, Records(64));
        Write(Cifar100.TestFile, Records(32));
        string output = Path.Combine(_root, "run");
        var (code, text, errors) = Plastic.Tests.Cli.CliTests.Run("run", "vgg6-cifar-small", "--dataset", "cifar100", "--data", _root, "--steps", "2", "--batch", "4",
            "--set", "probe.protocol=fast", "--set", "probe.epochs=1", "--out", output);
        Assert.True(code == 0, text + errors);
        Assert.Contains("of cifar100 (train split, 64 images)", text);
        using var probe = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "probe.json")));
        Assert.Equal("cifar100", probe.RootElement.GetProperty("dataset").GetString());
    }

    private static byte[] Archive(params (string Name, byte[] Bytes)[] files)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip))
            foreach (var (name, bytes) in files)
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(bytes) });
        return memory.ToArray();
    }

    /// <summary>An HTTP handler that answers every request with the same bytes and remembers what was asked.</summary>
    private sealed class Serving(byte[] content, List<Uri> requested) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (requested) requested.Add(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(content) });
        }
    }
}
