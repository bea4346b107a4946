using System.Text.Json.Nodes;
using Plastic.Experiments.Compare;

namespace Plastic.Tests.Cli;

/// <summary>
/// `plastic compare` runs each variant through the path `plastic run` takes: for every run-spec key a
/// variant may set, its config.resolved.json is the one `plastic run` writes for the same patched spec.
/// With seeds, every variant runs once per seed and the table gives intervals and paired differences.
/// </summary>
[Collection("Console")]
public sealed class ComparisonEngineTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"plastic-engine-{Guid.NewGuid():N}");

    public ComparisonEngineTests()
    {
        Plastic.Tests.Support.TestData.FakeCifar10(_root, 32, 16, seed: 4);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    /// <summary>One variant per run-spec key (the keys a comparison can vary; seed comes from 'seeds').</summary>
    private static readonly (string Name, string Set)[] KeyVariants =
    [
        ("rule", """{ "rule": "clapp++/gap" }"""),
        ("graph", """{ "graph": "backprop", "rule": "bp-infonce", "alignEvery": 0 }"""),
        ("network", """{ "network": "vgg6-cifar-small-dfb", "rule": "clapp++dfb" }"""),
        ("learning rate", """{ "optimizer.learningRate": 1e-3 }"""),
        ("weight decay", """{ "optimizer.weightDecay": 1e-4 }"""),
        ("steps", """{ "steps": 3 }"""),
        ("epochs", """{ "steps": null, "epochs": 0.25 }"""),
        ("batch", """{ "batch": 2 }"""),
        ("schedule", """{ "schedule": "sequential" }"""),
        ("greedy", """{ "steps": null, "schedule": "greedy", "layerSteps": [1, 1, 1, 1, 1, 1] }"""),
        ("negatives", """{ "negatives": "random" }"""),
        ("align every", """{ "alignEvery": 2 }"""),
        ("checkpoint every", """{ "checkpointEvery": 1 }"""),
        ("checkpoint keep", """{ "checkpointEvery": 1, "checkpointKeep": 1 }"""),
        ("augment", """{ "augment": { "minScale": 0.5, "flipProbability": 0 } }"""),
        ("ssl split", """{ "sslSplit": "train" }"""),
        ("device", """{ "device": "cpu" }"""),
        ("probe", """{ "probe.epochs": 2, "probe.knn": 3, "probe.perLayer": true }"""),
    ];

    [Trait(TestCategories.Category, TestCategories.Slow)]
    [Fact]
    public void Every_key_a_variant_sets_reaches_its_run_exactly_as_plastic_run_on_the_patched_spec()
    {
        string spec = Path.Combine(_root, "compare.json");
        var variants = new JsonArray(KeyVariants.Select(v => (JsonNode)new JsonObject { ["name"] = v.Name, ["set"] = JsonNode.Parse(v.Set) }).ToArray());
        var document = new JsonObject
        {
            ["name"] = "keys",
            ["base"] = JsonNode.Parse("""{ "network": "vgg6-cifar-small", "dataset": "cifar10", "steps": 2, "batch": 4, "probe": { "epochs": 1 } }"""),
            ["variants"] = variants,
            ["seeds"] = new JsonArray(7),
        };
        File.WriteAllText(spec, document.ToJsonString());
        var (code, _, errors) = CliTests.Run("compare", spec, "--data", _root, "--out", Path.Combine(_root, "compared"));
        Assert.True(code == 0, errors);
        var comparison = ComparisonSpec.Load(spec);
        foreach (var variant in comparison.Variants)
        {
            string runSpec = Path.Combine(_root, $"run-{Comparison.Slug(variant.Name)}.json");
            File.WriteAllText(runSpec, comparison.RunTree(variant, 7).ToJsonString());
            string runFolder = Path.Combine(_root, "ran", Comparison.Slug(variant.Name));
            var run = CliTests.Run("run", runSpec, "--data", _root, "--out", runFolder);
            Assert.True(run.code == 0, $"{variant.Name}: {run.errors}");
            string fromCompare = File.ReadAllText(Path.Combine(_root, "compared", Comparison.Slug(variant.Name), "config.resolved.json"));
            Assert.Equal(File.ReadAllText(Path.Combine(runFolder, "config.resolved.json")), fromCompare);
            Assert.DoesNotContain("\\u002B", fromCompare);
        }
        // The keys really arrived (not two equally wrong configs): a few spot checks.
        JsonNode Config(string variant) => JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "compared", Comparison.Slug(variant), "config.resolved.json")))!;
        Assert.Equal(1e-4f, Config("weight decay")["weight_decay"]!.GetValue<float>());
        Assert.Equal("sequential", Config("schedule")["schedule"]!.GetValue<string>());
        Assert.Equal(0.5, Config("augment")["run"]!["augment"]!["minScale"]!.GetValue<double>());
        Assert.Equal("cpu", Config("device")["device"]!.GetValue<string>());
        Assert.Equal(7UL, Config("rule")["seed"]!.GetValue<ulong>());
        Assert.Equal(6, Config("greedy")["layer_steps"]!.AsArray().Count);
    }

    [Fact]
    public void With_seeds_every_variant_runs_per_seed_and_the_table_gives_intervals_and_paired_differences()
    {
        string spec = Path.Combine(_root, "seeds.json");
        File.WriteAllText(spec, """
            { "name": "seeds", "base": { "network": "vgg6-cifar-small", "dataset": "cifar10", "steps": 2, "batch": 4, "probe": { "epochs": 2 } },
              "variants": [ { "name": "CLAPP++", "set": { "rule": "clapp++" } }, { "name": "random init", "untrained": true } ],
              "seeds": [2, 3, 4] }
            """);
        var (code, output, errors) = CliTests.Run("compare", spec, "--data", _root, "--out", Path.Combine(_root, "out"));
        Assert.True(code == 0, errors);
        Assert.Contains("[6/6] random init, seed 4", output);
        string table = File.ReadAllText(Path.Combine(_root, "out", "compare.md"));
        Assert.Contains("Mean over 3 seeds with its 95 % interval", table);
        Assert.Contains("| CLAPP++ - random init |", table);
        Assert.Contains("| method | seed 2 | seed 3 | seed 4 |", table);
        Assert.True(File.Exists(Path.Combine(_root, "out", "clapp++", "seed-3", "weights.npz")));
        Assert.True(File.Exists(Path.Combine(_root, "out", "random-init", "seed-4", "probe.json")));
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(_root, "out", "results.json")));
        var runs = doc.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(6, runs.Count);
        Assert.Equal([2UL, 3UL, 4UL], runs.Take(3).Select(r => r.GetProperty("seed").GetUInt64()));
        // Different seeds give different encoders (and so, almost surely, different accuracies or losses): the seeds are used.
        var weights = Enumerable.Range(2, 3).Select(s => File.ReadAllBytes(Path.Combine(_root, "out", "clapp++", $"seed-{s}", "weights.npz"))).ToList();
        Assert.NotEqual(weights[0], weights[1]);
        var pair = doc.RootElement.GetProperty("pairs").EnumerateArray().Single();
        Assert.Equal(3, pair.GetProperty("seeds").GetInt32());
        var summary = doc.RootElement.GetProperty("summary").EnumerateArray().First();
        double mean = runs.Take(3).Average(r => r.GetProperty("final_accuracy").GetDouble());
        Assert.Equal(mean, summary.GetProperty("mean_final_accuracy").GetDouble(), 12);
    }

    [Fact]
    public void A_sweep_makes_a_variant_per_value_with_a_table_and_a_plot()
    {
        string spec = Path.Combine(_root, "sweep.json");
        File.WriteAllText(spec, """
            { "name": "lr", "base": { "network": "vgg6-cifar-small", "dataset": "cifar10", "steps": 2, "batch": 4, "probe": { "epochs": 1 } },
              "variants": [ { "name": "CLAPP++", "set": { "rule": "clapp++" } }, { "name": "GAP", "set": { "rule": "clapp++/gap" } } ],
              "sweep": { "optimizer.learningRate": [1e-4, 1e-3] } }
            """);
        var comparison = ComparisonSpec.Load(spec);
        Assert.Equal(["CLAPP++, optimizer.learningRate=1e-4", "CLAPP++, optimizer.learningRate=1e-3", "GAP, optimizer.learningRate=1e-4", "GAP, optimizer.learningRate=1e-3"],
            comparison.Variants.Select(v => v.Name));
        Assert.Equal(1e-3f, comparison.Run(comparison.Variants[3], 2).Optimizer.LearningRate);
        Assert.Equal("clapp++/gap", comparison.Run(comparison.Variants[3], 2).Rule);
        var (code, _, errors) = CliTests.Run("compare", spec, "--data", _root, "--out", Path.Combine(_root, "swept"));
        Assert.True(code == 0, errors);
        string table = File.ReadAllText(Path.Combine(_root, "swept", "compare.md"));
        Assert.Contains("Sweep of `optimizer.learningRate`", table);
        Assert.Contains("| variant | 1e-4 | 1e-3 |", table);
        Assert.Matches(@"\| GAP \| [0-9.]+ % \| [0-9.]+ % \|", table);
        Assert.True(File.Exists(Path.Combine(_root, "swept", "sweep.png")));
        Assert.Contains("'sweep' is an object", Assert.Throws<ArgumentException>(() => ComparisonSpec.Load(Write("""{ "name": "x", "base": { "network": "mlp-3" }, "sweep": [1] }"""))).Message);
    }

    [Trait(TestCategories.Category, TestCategories.Slow)]
    [Theory]
    [InlineData("quickstart/spec.json")]
    [InlineData("cifar10-small/spec.json")]
    [InlineData("cifar10-small/seeds-1epoch.json")]
    public void A_shipped_comparison_runs_end_to_end_on_a_smoke_budget(string file)
    {
        // paper-table1-cifar10 is the full-width net: its B matrices alone take gigabytes, too much for every CI run.
        string spec = Path.Combine(Plastic.Tests.Support.PythonPeer.RepositoryRoot(), "experiments", file);
        string name = file.Replace('/', '-');
        var (code, output, errors) = CliTests.Run("compare", spec, "--smoke", "--data", _root, "--out", Path.Combine(_root, name));
        Assert.True(code == 0, errors);
        var comparison = ComparisonSpec.Load(spec);
        Assert.Contains($"[{comparison.Variants.Count}/{comparison.Variants.Count}]", output);
        string table = File.ReadAllText(Path.Combine(_root, name, "compare.md"));
        foreach (var v in comparison.Variants) Assert.Contains($"| {v.Name} |", table);
        Assert.Contains("2 steps of 4 x 2 views", table);
    }

    [Trait(TestCategories.Category, TestCategories.Slow)]
    [Fact]
    public void The_shipped_run_spec_runs_end_to_end_on_a_smoke_budget()
    {
        string spec = Path.Combine(Plastic.Tests.Support.PythonPeer.RepositoryRoot(), "experiments", "runs", "cifar10-clapp++.json");
        string folder = Path.Combine(_root, "run-smoke");
        var (code, output, errors) = CliTests.Run("run", spec, "--smoke", "--data", _root, "--out", folder);
        Assert.True(code == 0, errors);
        Assert.Contains("2 steps of 4 x 2 views", output);
        using var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.resolved.json")));
        Assert.Equal(2, config.RootElement.GetProperty("steps").GetInt64());
        using var probe = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "probe.json")));
        Assert.Equal(32, probe.RootElement.GetProperty("train_images").GetInt32()); // the fake data set's 32, under the budget's 64
        Assert.Equal(RunFolderCommit(), probe.RootElement.GetProperty("commit").GetString());
    }

    private static string RunFolderCommit() => Plastic.Experiments.Provenance.GitCommit();

    private string Write(string json)
    {
        string path = Path.Combine(_root, $"spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
