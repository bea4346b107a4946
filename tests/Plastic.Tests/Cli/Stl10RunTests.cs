using System.Text.Json;

namespace Plastic.Tests.Cli;

/// <summary>
/// `plastic run` on STL-10 files written here: self-supervised training reads the unlabelled split (or
/// unlabeled+train with sslSplit), the probe trains on train and tests on test, and the resolved spec
/// names the split.
/// </summary>
[Collection("Console")]
public sealed class Stl10RunTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-stl10-run-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void WriteSplit(string split, int count, bool labelled, int seed)
    {
        string dir = Path.Combine(_root, "stl10_binary");
        Directory.CreateDirectory(dir);
        var x = new byte[count * 3 * 96 * 96];
        new Random(seed).NextBytes(x);
        File.WriteAllBytes(Path.Combine(dir, $"{split}_X.bin"), x);
        if (labelled) File.WriteAllBytes(Path.Combine(dir, $"{split}_y.bin"), Enumerable.Range(0, count).Select(i => (byte)(i % 10 + 1)).ToArray());
    }

    [Fact]
    public void A_run_trains_on_the_unlabeled_split_and_probes_on_train_and_test()
    {
        WriteSplit("train", 10, labelled: true, seed: 1);
        WriteSplit("test", 6, labelled: true, seed: 2);
        WriteSplit("unlabeled", 12, labelled: false, seed: 3);
        string network = Path.Combine(_root, "tiny-96.json");
        File.WriteAllText(network, """
            { "name": "tiny-96", "rule": "clapp++", "input": { "channels": 3, "height": 96, "width": 96 },
              "layers": [ { "name": "c1", "kind": "conv", "width": 4, "maxPool": 4, "lossPool": 6 },
                          { "name": "c2", "kind": "conv", "width": 4, "maxPool": 2, "lossPool": 3 } ] }
            """);
        string spec = Path.Combine(_root, "spec.json");
        File.WriteAllText(spec, """{ "network": "tiny-96.json", "dataset": "stl10", "steps": 2, "batch": 4, "probe": { "epochs": 1 } }""");
        string folder = Path.Combine(_root, "run");
        var (code, output, errors) = CliTests.Run("run", spec, "--data", _root, "--out", folder);
        Assert.True(code == 0, errors);
        Assert.Contains("2 steps of 4 x 2 views of stl10 (unlabeled split, 12 images)", output);
        using (var probe = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "probe.json"))))
        {
            Assert.Equal(10, probe.RootElement.GetProperty("train_images").GetInt32());
            Assert.Equal(6, probe.RootElement.GetProperty("test_images").GetInt32());
        }
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.resolved.json"))))
            Assert.Equal("unlabeled", config.RootElement.GetProperty("run").GetProperty("sslSplit").GetString());

        var both = CliTests.Run("run", spec, "--data", _root, "--out", Path.Combine(_root, "both"), "--set", "sslSplit=unlabeled+train", "--set", "probe=null");
        Assert.True(both.code == 0, both.errors);
        Assert.Contains("of stl10 (unlabeled+train split, 22 images)", both.output);

        var bad = CliTests.Run("run", spec, "--data", _root, "--out", Path.Combine(_root, "bad"), "--set", "sslSplit=train");
        Assert.Equal(2, bad.code);
        Assert.Contains("sslSplit 'train' is not a split of stl10; choose unlabeled or unlabeled+train", bad.errors);
        Assert.Contains(spec, bad.errors);

        File.Delete(Path.Combine(_root, "stl10_binary", "unlabeled_X.bin"));
        var missing = CliTests.Run("run", spec, "--data", _root, "--out", Path.Combine(_root, "missing"));
        Assert.Equal(2, missing.code);
        Assert.Contains($"no unlabeled_X.bin under {Path.Combine(_root, "stl10_binary")}", missing.errors);
        Assert.Contains("plastic data fetch stl10", missing.errors);
    }
}
