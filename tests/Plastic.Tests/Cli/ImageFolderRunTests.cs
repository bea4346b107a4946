using System.Text.Json.Nodes;
using Plastic.Datasets.Readers;
using Plastic.Tests.Support;

namespace Plastic.Tests.Cli;

/// <summary>
/// The README's example of your own images, on folders this test writes: a run of
/// experiments/image-folders/spec.json pre-trains on an unlabelled folder (mixed sizes, one corrupt JPEG
/// among the PNGs) and probes on labelled folders; a second run reads the cache and gives the same weights
/// bit for bit; and `plastic data export` writes a catalogue split that reads back to its bytes, which `plastic data list` then shows with its cache.
/// </summary>
[Collection("Console")]
public sealed class ImageFolderRunTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-folder-run-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Images of <paramref name="classes"/> colours with noise, of three sizes; class k's in subfolder k when labelled.</summary>
    private void Write(string folder, int count, int classes, bool labelled, int seed)
    {
        var random = new Random(seed);
        (int W, int H)[] sizes = [(32, 32), (40, 36), (36, 48)];
        for (int i = 0; i < count; i++)
        {
            int k = i % classes;
            var (w, h) = sizes[i % sizes.Length];
            var pixels = new byte[3 * w * h];
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < w * h; p++)
                    pixels[c * w * h + p] = (byte)Math.Clamp(((k >> c) & 1) * 180 + 40 + random.Next(-30, 31), 0, 255);
            string path = Path.Combine(_root, folder, labelled ? $"class{k}" : "", $"{i:D3}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, PngWriter.Encode(pixels, 3, h, w));
        }
    }

    [Fact]
    [Trait("Category", TestCategories.Slow)]
    public void The_readme_example_pre_trains_on_a_folder_and_probes_on_labelled_folders_and_a_second_run_reads_the_cache()
    {
        Write("photos", 48, 4, labelled: false, seed: 1);
        string broken = Path.Combine(_root, "photos", "broken.jpg");
        File.WriteAllBytes(broken, [0xFF, 0xD8, 0xFF, 0xE0, 7, 7, 7]);
        Write("labelled-train", 40, 4, labelled: true, seed: 2);
        Write("labelled-test", 20, 4, labelled: true, seed: 3);
        string spec = Path.Combine(_root, "spec.json");
        File.Copy(Path.Combine(PythonPeer.RepositoryRoot(), "experiments", "image-folders", "spec.json"), spec);
        string[] Run(string output) => ["run", spec, "--steps", "6", "--batch", "8", "--set", "probe.epochs=5", "--out", Path.Combine(_root, output)];

        var (code, output, errors) = CliTests.Run(Run("first"));
        Assert.True(code == 0, errors + output);
        Assert.Contains($"warning: 1 of 49 images under {Path.Combine(_root, "photos")} do not decode and are skipped; the first: {broken}: not a decodable image", output);
        Assert.Contains($"dataset {Path.Combine(_root, "photos")}: 48 images, no labels, 1 skipped; sizes met 32x32 (16), 36x48 (16), 40x36 (16)", output);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "first", "config.resolved.json")))!;
        Assert.Equal(Path.Combine(_root, "photos"), (string?)config["run"]!["dataset"]!["images"]);
        Assert.Equal(Path.Combine(_root, "labelled-test"), (string?)config["run"]!["probe"]!["test"]!["images"]);
        var recorded = config["data_sets"]!["dataset"]!;
        Assert.Equal(48, (int)recorded["count"]!);
        Assert.Equal(broken, (string?)recorded["skipped"]![0]);
        Assert.Equal(3, recorded["mean"]!.AsArray().Count);
        Assert.Equal(["class0", "class1", "class2", "class3"], config["data_sets"]!["probe.train"]!["classes"]!.AsArray().Select(c => (string)c!));
        var probe = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "first", "probe.json")))!;
        Assert.Equal(20, (int)probe["test_images"]!);
        // Four colours far apart: any encoder separates them; chance is 25 %.
        Assert.True((double)probe["final_accuracy"]! > 0.5, $"probe accuracy {(double)probe["final_accuracy"]!}");

        var again = CliTests.Run(Run("second"));
        Assert.True(again.code == 0, again.errors + again.output);
        Assert.Contains($"{Path.Combine(_root, "photos")}: 48 images from the cache", again.output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_root, "first", "weights.npz")), File.ReadAllBytes(Path.Combine(_root, "second", "weights.npz")));
    }

    [Fact]
    public void Data_export_writes_a_split_that_reads_back_to_its_bytes_and_labels()
    {
        var random = new Random(9);
        var pixels = new byte[12 * 784];
        random.NextBytes(pixels);
        byte[] labels = [.. Enumerable.Range(0, 12).Select(i => (byte)(i * 7 % 10))];
        string data = Path.Combine(_root, "data");
        foreach (var (file, bytes) in new Dictionary<string, byte[]>
        {
            ["mnist/train-images-idx3-ubyte.gz"] = BadInput.Gzip(BadInput.Idx([12, 28, 28], pixels)),
            ["mnist/train-labels-idx1-ubyte.gz"] = BadInput.Gzip(BadInput.Idx([12], labels)),
        })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(data, file))!);
            File.WriteAllBytes(Path.Combine(data, file), bytes);
        }
        string folder = Path.Combine(data, "exported");
        var (code, output, errors) = CliTests.Run("data", "export", "mnist", folder, "--data", data, "--count", "10");
        Assert.True(code == 0, errors);
        Assert.Contains($"{folder}: 10 PNG images of 1x28x28 from mnist train, one subfolder per class", output);
        var read = ImageFolderCache.Open(new ImageFolderSource(folder, "folders", 1, 28, 28, Strict: true));
        Assert.Equal(10, read.Images.Count);
        // Listed by class folder then name: image i sits in class labels[i] as i.png.
        var order = Enumerable.Range(0, 10).OrderBy(i => labels[i]).ThenBy(i => i).ToList();
        for (int k = 0; k < 10; k++)
        {
            Assert.Equal(pixels.AsSpan(order[k] * 784, 784).ToArray(), read.Images.Image(k).ToArray());
            Assert.Equal(labels[order[k]], byte.Parse(read.Manifest.Classes[read.Images.Labels[k]], System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Contains("not empty", CliTests.Run("data", "export", "mnist", folder, "--data", data).errors);
        // data list shows the folder under the data root, its class subfolders and its cache.
        var list = CliTests.Run("data", "list", "--data", data);
        Assert.True(list.code == 0, list.errors);
        Assert.Matches(@"exported\s+10 " + System.Text.RegularExpressions.Regex.Escape(folder) + @"\s+folder of images, \d+ subfolders", list.output);
        Assert.Contains("cache 1x28x28-resize28-folders: 10 images, " + read.Manifest.Classes.Count + " classes, mean ", list.output);
    }
}
