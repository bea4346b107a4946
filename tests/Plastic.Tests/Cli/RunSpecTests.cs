using System.Text.Json;
using System.Text.Json.Nodes;
using Plastic.Experiments.Runs;

namespace Plastic.Tests.Cli;

/// <summary>`plastic run &lt;spec.json&gt;`: typed run specs, --set overrides and a probed run end to end.</summary>
[Collection("Console")]
public sealed class RunSpecTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"plastic-runspec-{Guid.NewGuid():N}");

    public RunSpecTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Spec(string json)
    {
        string path = Path.Combine(_root, $"spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Unknown_keys_are_errors_that_name_the_key_and_the_file()
    {
        string top = Spec("""{ "network": "mlp-3", "stepz": 3 }""");
        var e = Assert.Throws<ArgumentException>(() => RunSpec.From(RunSpec.Read(top), top));
        Assert.Contains(top, e.Message);
        Assert.Contains("unknown key 'stepz'", e.Message);
        string nested = Spec("""{ "network": "mlp-3", "dataset": "cifar10", "probe": { "epochz": 3 } }""");
        e = Assert.Throws<ArgumentException>(() => RunSpec.From(RunSpec.Read(nested), nested));
        Assert.Contains("unknown key 'probe.epochz'", e.Message);
        Assert.Contains("onlineEvery", e.Message);   // the known keys of that object are listed
        string wrongType = Spec("""{ "network": "mlp-3", "batch": "many" }""");
        e = Assert.Throws<ArgumentException>(() => RunSpec.From(RunSpec.Read(wrongType), wrongType));
        Assert.Contains("batch", e.Message);
    }

    [Fact]
    public void A_data_set_is_a_name_or_a_folder_of_images_and_is_written_back_as_it_was_given()
    {
        string folder = Spec("""{ "network": "vgg6-cifar-small", "dataset": { "images": "photos", "labels": "folders", "resize": 40, "strict": true }, "probe": { "train": "cifar10", "test": { "images": "held-out", "labels": "test.csv" } } }""");
        var spec = RunSpec.From(RunSpec.Read(folder), folder);
        Assert.Equal(new DatasetRef { Images = "photos", Labels = "folders", Resize = 40, Strict = true }, spec.Dataset);
        Assert.True(spec.Dataset.IsFolder);
        Assert.Equal("cifar10", spec.Probe!.Train!.Name);
        Assert.Equal("test.csv", spec.Probe.Test!.Labels);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
        var written = JsonSerializer.SerializeToNode(spec, options)!;
        Assert.Equal("""{"images":"photos","labels":"folders","resize":40,"strict":true}""", written["dataset"]!.ToJsonString());
        Assert.Equal("\"cifar10\"", written["probe"]!["train"]!.ToJsonString());
        // What config.resolved.json holds reads back to the same data sets.
        var back = RunSpec.From(written.AsObject(), "written");
        Assert.Equal((spec.Dataset, spec.Probe.Train, spec.Probe.Test), (back.Dataset, back.Probe!.Train, back.Probe.Test));
        string named = Spec("""{ "network": "mlp-3", "dataset": "mnist" }""");
        Assert.Equal("mnist", RunSpec.From(RunSpec.Read(named), named).Dataset.CatalogueName);
        Assert.True(RunSpec.From(RunSpec.Read(Spec("""{ "network": "mlp-3" }""")), "default").Dataset.IsSynthetic);
    }

    [Fact]
    public void Set_overrides_nested_keys_with_json_values_and_text()
    {
        var tree = RunSpec.Read(Spec("""{ "network": "mlp-3", "steps": 5, /* comments are allowed */ "optimizer": { "learningRate": 0.001 } }"""));
        RunSpec.Set(tree, "optimizer.learningRate=0.01");
        RunSpec.Set(tree, "probe.knn=7");
        RunSpec.Set(tree, "dataset=cifar10");
        RunSpec.Set(tree, "rule=clapp++/gap");
        var spec = RunSpec.From(tree, "test");
        Assert.Equal(0.01f, spec.Optimizer.LearningRate);
        Assert.Equal(7, spec.Probe!.Knn);
        Assert.Equal(20, spec.Probe.Epochs);          // the default of what --set left out
        Assert.Equal("cifar10", spec.Dataset);
        Assert.Equal("clapp++/gap", spec.Rule);
        Assert.Equal(5, spec.StepsFor(50_000));
        Assert.Contains("path=value", Assert.Throws<ArgumentException>(() => RunSpec.Set(tree, "nothing")).Message);
        Assert.Contains("'steps' is a value", Assert.Throws<ArgumentException>(() => RunSpec.Set(tree, "steps.x=1")).Message);
        RunSpec.Set(tree, "probe.bogus=1");
        Assert.Contains("unknown key 'probe.bogus'", Assert.Throws<ArgumentException>(() => RunSpec.From(tree, "test")).Message);
    }

    [Fact]
    public void Epochs_become_steps_of_the_training_split_and_contradictions_are_refused()
    {
        var spec = RunSpec.From(new JsonObject { ["network"] = "x", ["dataset"] = "cifar10", ["epochs"] = 2.5, ["batch"] = 32 }, "test");
        Assert.Equal((long)Math.Ceiling(2.5 * 50_000 / 32), spec.StepsFor(50_000));
        Assert.Equal(20, RunSpec.From(new JsonObject { ["network"] = "x" }, "test").StepsFor(0));
        Assert.Contains("not both", Assert.Throws<ArgumentException>(() => RunSpec.From(new JsonObject { ["network"] = "x", ["dataset"] = "cifar10", ["epochs"] = 1, ["steps"] = 3 }, "f")).Message);
        Assert.Contains("needs a labelled data set", Assert.Throws<ArgumentException>(() => RunSpec.From(new JsonObject { ["network"] = "x", ["probe"] = new JsonObject() }, "f")).Message);
        Assert.Contains("augment.flipProbability", Assert.Throws<ArgumentException>(() =>
            RunSpec.From(new JsonObject { ["network"] = "x", ["augment"] = new JsonObject { ["flipProbability"] = 2 } }, "f")).Message);
        Assert.Contains("'network'", Assert.Throws<ArgumentException>(() => RunSpec.From(new JsonObject(), "f")).Message);
    }

    [Fact]
    public void A_run_spec_trains_probes_per_layer_and_by_knn_and_probes_online()
    {
        Plastic.Tests.Support.TestData.FakeCifar10(_root, 48, 24, seed: 5);
        string spec = Spec("""
            { "network": "vgg6-cifar-small", "rule": "clapp++", "dataset": "cifar10", "epochs": 1, "batch": 8,
              "probe": { "epochs": 2, "perLayer": true, "knn": 3, "onlineEvery": 2, "onlineTrainImages": 16, "onlineTestImages": 8, "onlineEpochs": 1 } }
            """);
        string folder = Path.Combine(_root, "run");
        var (code, output, errors) = CliTests.Run("run", spec, "--data", _root, "--out", folder, "--set", "seed=4");
        Assert.True(code == 0, errors);
        Assert.Contains("6 steps of 8 x 2 views of cifar10", output);   // 1 epoch of 48 images
        Assert.Contains("step 6/6 (100%)", output);                      // progress lines when the output is not a terminal
        using var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json")));
        var probe = results.RootElement.GetProperty("probe");
        Assert.Equal(48, probe.GetProperty("train_images").GetInt32());
        Assert.Equal(6, probe.GetProperty("per_layer").EnumerateObject().Count());
        Assert.InRange(probe.GetProperty("knn_accuracy").GetDouble(), 0, 1);
        // Online probes at steps 0, 2 and 4 (the parameters step t's forward pass used).
        Assert.Equal([0L, 2L, 4L], results.RootElement.GetProperty("online_probe").EnumerateArray().Select(p => p.GetProperty("step").GetInt64()));
        Assert.True(File.Exists(Path.Combine(folder, "online_probe.png")));
        // Every probe number is labelled with its protocol: fast unless the spec says otherwise, and always fast online.
        Assert.Equal("fast", probe.GetProperty("protocol").GetString());
        Assert.Equal("fast", results.RootElement.GetProperty("online_probe_protocol").GetString());
        Assert.StartsWith("step,protocol,final_accuracy,best_accuracy\n0,fast,", File.ReadAllText(Path.Combine(folder, "online_probe.csv")));
        Assert.Contains("online probe (fast protocol) at step 2", output);
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.resolved.json")));
        Assert.Equal(4UL, config.RootElement.GetProperty("run").GetProperty("seed").GetUInt64());
        Assert.Equal("clapp++", config.RootElement.GetProperty("spec").GetProperty("rule").GetString());

        var unknown = CliTests.Run("run", spec, "--data", _root, "--out", folder, "--set", "probe.onlineEvry=3");
        Assert.Equal(2, unknown.code);
        Assert.Contains("unknown key 'probe.onlineEvry'", unknown.errors);
        Assert.Contains("--set probe.onlineEvry=3", unknown.errors);
    }

    [Fact]
    public void A_run_spec_probes_with_the_paper_protocol_and_labels_every_number_with_it()
    {
        Plastic.Tests.Support.TestData.FakeCifar10(_root, 40, 20, seed: 6);
        string spec = Spec("""
            { "network": "vgg6-cifar-small", "dataset": "cifar10", "steps": 2, "batch": 4, "probe": { "protocol": "paper", "epochs": 2 } }
            """);
        string folder = Path.Combine(_root, "run");
        var (code, output, errors) = CliTests.Run("run", spec, "--data", _root, "--out", folder);
        Assert.True(code == 0, errors);
        Assert.Contains("epoch   2 (paper protocol)", output);
        Assert.Contains("linear probe (paper protocol), all layers: final-epoch test accuracy", output);
        using (var probe = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "probe.json"))))
        {
            var p = probe.RootElement;
            Assert.Equal("paper", p.GetProperty("protocol").GetString());
            Assert.StartsWith("paper (PAPER.md 4.4)", p.GetProperty("protocol_description").GetString());
            Assert.Equal(2, p.GetProperty("epochs").GetInt32());
            Assert.InRange(p.GetProperty("final_accuracy").GetDouble(), 0, 1);
            Assert.InRange(p.GetProperty("best_accuracy").GetDouble(), p.GetProperty("final_accuracy").GetDouble(), 1);
            Assert.InRange(p.GetProperty("best_epoch").GetInt32(), 1, 2);
            Assert.Equal((40, 20), (p.GetProperty("train_images").GetInt32(), p.GetProperty("test_images").GetInt32()));
        }
        using (var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "results.json"))))
            Assert.Equal("paper", results.RootElement.GetProperty("probe").GetProperty("protocol").GetString());

        // plastic probe: fast unless --protocol says otherwise; probe.json says which.
        var again = CliTests.Run("probe", folder, "--dataset", "cifar10", "--data", _root, "--epochs", "1");
        Assert.True(again.code == 0, again.errors);
        Assert.Contains("linear probe (fast protocol)", again.output);
        using (var probe = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "probe.json"))))
            Assert.Equal("fast", probe.RootElement.GetProperty("protocol").GetString());

        var badFlag = CliTests.Run("probe", folder, "--dataset", "cifar10", "--data", _root, "--protocol", "eval_ssl");
        Assert.Equal(2, badFlag.code);
        Assert.Contains("--protocol: 'eval_ssl' is not a probe protocol; choose fast or paper", badFlag.errors);
        var badKey = CliTests.Run("run", spec, "--data", _root, "--out", folder, "--set", "probe.protocol=augmented");
        Assert.Equal(2, badKey.code);
        Assert.Contains("probe.protocol: 'augmented' is not a probe protocol; choose fast or paper", badKey.errors);
    }

    [Fact]
    public void A_comparison_spec_chooses_its_probe_protocol_and_passes_it_to_its_runs()
    {
        string path = Spec("""{ "name": "c", "base": { "network": "mlp-3", "dataset": "mnist", "steps": 2, "probe": { "protocol": "paper" } }, "variants": [ { "name": "A", "set": { "rule": "clapp++" } } ] }""");
        var comparison = Plastic.Experiments.Compare.ComparisonSpec.Load(path);
        Assert.Equal(Plastic.Sim.Probes.ProbeProtocol.Paper, comparison.BaseRun.Probe!.Settings().Protocol);
        Assert.Equal("paper", Plastic.Experiments.Compare.ComparisonSpec.VariantAsRun(path, "A")["probe"]!["protocol"]!.GetValue<string>());
        string bad = Spec("""{ "name": "c", "base": { "network": "mlp-3", "dataset": "mnist", "steps": 2, "probe": { "protocol": "linear" } }, "variants": [ { "name": "A", "set": { "rule": "clapp++" } } ] }""");
        var e = Assert.Throws<ArgumentException>(() => Plastic.Experiments.Compare.ComparisonSpec.Load(bad));
        Assert.Contains($"{bad}: base: probe.protocol: 'linear' is not a probe protocol; choose fast or paper", e.Message);
    }

    [Fact]
    public void A_variant_is_the_base_with_its_patch_and_the_seed()
    {
        string path = Spec("""
            { "name": "c", "base": { "network": "mlp-3", "steps": 2, "optimizer": { "learningRate": 1e-3, "weightDecay": 1e-5 } },
              "variants": [ { "name": "A", "set": { "rule": "clapp++/gap", "optimizer.learningRate": 5e-4 } }, { "name": "B", "set": { "graph": "backprop", "rule": "bp-infonce" } } ],
              "seeds": [3, 4] }
            """);
        var c = Plastic.Experiments.Compare.ComparisonSpec.Load(path, ["steps=5"]);
        var a = c.Run(c.Find("A"), 4);
        Assert.Equal(("clapp++/gap", 5e-4f, 1e-5f, 5L, 4UL), (a.Rule, a.Optimizer.LearningRate, a.Optimizer.WeightDecay, a.Steps!.Value, a.Seed));
        Assert.Equal("backprop", c.Run(c.Find("bp-infonce"), 3).Graph);
        string Error(string json) => Assert.Throws<ArgumentException>(() => Plastic.Experiments.Compare.ComparisonSpec.Load(Spec(json))).Message;
        Assert.Contains("'rule' goes inside the variant's 'set'", Error("""{ "name": "c", "base": { "network": "mlp-3" }, "variants": [ { "name": "A", "rule": "clapp++" } ] }"""));
        Assert.Contains("'seeds' repeats a seed", Error("""{ "name": "c", "base": { "network": "mlp-3" }, "variants": [ { "name": "A", "set": { "rule": "clapp++" } } ], "seeds": [2, 2] }"""));
        Assert.Contains("'seeds' at the top, or 'seed' in 'base', not both", Error("""{ "name": "c", "base": { "network": "mlp-3", "seed": 5 }, "variants": [ { "name": "A", "set": { "rule": "clapp++" } } ], "seeds": [2] }"""));
        Assert.Contains("variant name 'A' is used 2 times", Error("""{ "name": "c", "base": { "network": "mlp-3" }, "variants": [ { "name": "A", "set": { "rule": "clapp++" } }, { "name": "a", "set": { "rule": "ff" } } ] }"""));
        Assert.Contains("give 'base' a 'probe'", Error("""{ "name": "c", "base": { "network": "mlp-3" }, "variants": [ { "name": "R", "untrained": true } ] }"""));
        Assert.Contains("alignEvery measures a local rule", Error("""{ "name": "c", "base": { "network": "mlp-3", "alignEvery": 2 }, "variants": [ { "name": "B", "set": { "graph": "backprop", "rule": "bp-clapp++" } } ] }"""));
    }

    [Fact]
    public void The_specs_shipped_in_experiments_load()
    {
        string root = Plastic.Tests.Support.PythonPeer.RepositoryRoot();
        var runSpecs = Directory.GetFiles(Path.Combine(root, "experiments", "runs"), "*.json");
        Assert.NotEmpty(runSpecs);
        foreach (var path in runSpecs)
        {
            Assert.True(RunSpec.IsRunSpec(path), path);
            var spec = RunSpec.From(RunSpec.Read(path), path);
            Assert.True(Plastic.Topology.Presets.Names.Contains(spec.Network), $"{path}: {spec.Network}");
        }
        var shipped = Directory.GetDirectories(Path.Combine(root, "experiments")).Select(d => Path.Combine(d, "spec.json")).Where(File.Exists).ToList();
        // An experiment's spec.json is a comparison, or a run spec (experiments/image-folders).
        foreach (var path in shipped.Where(RunSpec.IsRunSpec)) RunSpec.From(RunSpec.Read(path), path);
        var comparisons = shipped.Where(p => !RunSpec.IsRunSpec(p)).ToList();
        Assert.True(comparisons.Count >= 3, string.Join(", ", comparisons));
        foreach (var path in comparisons)
        {
            var comparison = Plastic.Experiments.Compare.ComparisonSpec.Load(path);
            Assert.All(comparison.Variants.Where(v => !v.Untrained).Select(v => comparison.Run(v, comparison.Seeds[0]).Network), n => Assert.Contains(n, Plastic.Topology.Presets.Names));
        }
    }

    [Fact]
    public void A_comparison_refuses_probe_settings_that_cannot_run()
    {
        string path = Spec("""{ "name": "c", "base": { "network": "mlp-3", "dataset": "mnist", "steps": 2, "probe": { "epochs": 0 } }, "variants": [ { "name": "A", "set": { "rule": "clapp++" } } ] }""");
        var e = Assert.Throws<ArgumentException>(() => Plastic.Experiments.Compare.ComparisonSpec.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("probe epochs must be at least 1", e.Message);
    }
}
