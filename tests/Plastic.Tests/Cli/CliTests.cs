using Plastic.Cli;

namespace Plastic.Tests.Cli;

/// <summary>The `plastic` commands end to end, in process, with their output captured.</summary>
[Collection("Console")]
public sealed class CliTests
{
    /// <summary>Runs the tool; output is stdout, errors is stderr.</summary>
    internal static (int code, string output, string errors) Run(params string[] args)
    {
        var (originalOut, originalError) = (Console.Out, Console.Error);
        var output = new StringWriter();
        var errors = new StringWriter();
        Console.SetOut(output);
        Console.SetError(errors);
        try
        {
            int code = PlasticCommand.Run(args);
            return (code, output.ToString(), errors.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }
    }

    [Fact]
    public void Devices_lists_cpu_and_the_auto_choice()
    {
        var (code, output, _) = Run("devices");
        Assert.Equal(0, code);
        Assert.Contains("cpu", output);
        Assert.Contains("ilgpu-cpu", output);
        Assert.Contains("auto picks:", output);
    }

    [Fact]
    public void Bench_kernels_json_reports_every_shape_with_positive_rates()
    {
        var (code, output, _) = Run("bench", "kernels", "--device", "cpu", "--quick", "--repeats", "1", "--json");
        Assert.Equal(0, code);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(5, results.Count); // two GEMMs, conv forward and both backward passes
        Assert.All(results, r => Assert.True(r.GetProperty("gflops").GetDouble() > 0));
        Assert.True(doc.RootElement.GetProperty("fma_peak_gflops").GetDouble() > 0);
    }

    [Fact]
    public void Bench_kernels_only_measures_the_cases_it_names_and_refuses_a_name_that_matches_none()
    {
        var (code, output, _) = Run("bench", "kernels", "--device", "cpu", "--width", "0.125", "--batch", "2", "--only", "vgg6-l6", "--repeats", "1", "--json");
        Assert.Equal(0, code);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        var names = doc.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Equal(["vgg6-l6 fwd", "vgg6-l6 bwd-input", "vgg6-l6 bwd-weight"], names);

        var (bad, badOutput, errors) = Run("bench", "kernels", "--device", "cpu", "--quick", "--only", "vgg6-l9");
        Assert.Equal(2, bad);
        Assert.Equal("", badOutput);
        Assert.StartsWith("plastic: --only 'vgg6-l9' names no case; the cases are: gemm, conv3x3 fwd", errors);
    }

    [Fact]
    public void Describe_prints_layers_shapes_and_edges_of_a_preset_and_of_a_file()
    {
        var (code, output, _) = Run("describe", "vgg6-cifar-dfb");
        Assert.Equal(0, code);
        Assert.Contains("block6", output);
        Assert.Contains("1024x2x2 (4096)", output);
        Assert.Contains("32768", output);
        Assert.Contains("16,226,816", output);
        Assert.Contains("direct-feedback", output);
        // The schedule comes from the wiring and the rules' declared needs: DFB layers wait for the top's reference, the top sends it.
        Assert.Matches(@"block1\s+update\s+waits for Pairing\(t\) from input, TopDownReference\(t\) from block6, its own forward\(t\)", output);
        Assert.Matches(@"block6\s+forward\s+waits for Forward\(t\) from block5, its own update\(t-1\); sends TopDownReference\(t\) to block1, TopDownReference\(t\) to block2", output);
        Assert.Matches(@"loss\s+loss\s+waits for Forward\(t\) from block6, Pairing\(t\) from input; sends Backward\(t\) to block6", output);
        Assert.DoesNotContain("still to come", output);

        string path = Path.Combine(Path.GetTempPath(), $"plastic-describe-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, Plastic.Topology.NetworkSpecJson.Serialize(Plastic.Topology.Presets.Mlp(20, [7, 5])));
        try
        {
            var (fileCode, fileOutput, _) = Run("describe", path);
            Assert.Equal(0, fileCode);
            Assert.Contains("fc2", fileOutput);
            Assert.Contains((20 * 7 + 7 + 7 * 5 + 5).ToString(), fileOutput);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Describe_of_a_bad_spec_prints_the_spec_error()
    {
        var (code, _, errors) = Run("describe", "resnet");
        Assert.Equal(2, code);
        Assert.StartsWith("plastic: network 'resnet': not a preset", errors);
    }

    [Fact]
    public void Run_writes_a_run_folder_and_trace_reads_its_traffic_and_verdict()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"plastic-run-{Guid.NewGuid():N}");
        try
        {
            var (code, output, errors) = Run("run", "mlp-3", "--rule", "clapp++", "--synthetic", "--steps", "3", "--batch", "4", "--out", folder);
            Assert.True(code == 0, errors);
            Assert.Contains("ran 3 steps", output);
            foreach (var file in new[] { "config.resolved.json", "metrics.csv", "traces.jsonl", "results.json" })
                Assert.True(File.Exists(Path.Combine(folder, file)), file);
            Assert.Equal(1 + 3 * 3, File.ReadAllLines(Path.Combine(folder, "metrics.csv")).Length); // header + 3 steps x 3 layers

            var (traceCode, trace, _) = Run("trace", folder);
            Assert.Equal(0, traceCode);
            Assert.Contains("Pairing", trace);
            Assert.Contains("verdict: local: only forward activations and declared modulatory signals crossed layer boundaries", trace);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Align_reports_every_layer_with_the_top_one_at_cosine_one()
    {
        var (code, output, errors) = Run("align", "mlp-3", "--batches", "3", "--batch", "8", "--json");
        Assert.True(code == 0, errors);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        var layers = doc.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["fc1", "fc2", "fc3"], layers.Select(l => l.GetProperty("layer").GetString()));
        Assert.Equal(1.0, layers[^1].GetProperty("cosine").GetDouble(), 1e-6);
    }

    [Fact]
    public void Theory_writes_csv_json_png_and_an_npz_dump_and_names_missing_data()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"plastic-theory-{Guid.NewGuid():N}");
        try
        {
            var (code, output, errors) = Run("theory", "fig3a", "--synthetic", "--batches", "2", "--batch", "8", "--curve", "2",
                "--out", folder, "--dump", Path.Combine(folder, "g.npz"), "--json");
            Assert.True(code == 0, errors);
            using var doc = System.Text.Json.JsonDocument.Parse(output);
            var curve = doc.RootElement.GetProperty("curves").EnumerateArray().Single();
            Assert.Equal("linear f, DFB", curve.GetProperty("name").GetString());
            Assert.Equal(1.0, curve.GetProperty("layers").EnumerateArray().Last().GetProperty("cosine").GetDouble(), 1e-6);
            var png = File.ReadAllBytes(Path.Combine(folder, "fig3a.png"));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png.Take(4));
            Assert.True(File.ReadAllLines(Path.Combine(folder, "fig3a.csv")).Length == 1 + 2 * 6);
            var dump = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(folder, "g.npz"));
            Assert.Equal([64, 128], dump["c1_local_dW2"].Shape);
            Assert.Equal([128, 4], dump["c1_B1"].Shape);

            var missing = Run("theory", "fig2", "--data", Path.Combine(folder, "nowhere"));
            Assert.Equal(2, missing.code);
            Assert.Contains("fig2: mnist: no train-images-idx3-ubyte", missing.errors);
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Run_asks_for_one_data_source_and_checks_that_a_data_set_fits_the_network()
    {
        var none = Run("run", "mlp-3", "--steps", "1");
        Assert.Equal(2, none.code);
        Assert.Contains("--synthetic, or --dataset", none.errors);
        string root = Path.Combine(Path.GetTempPath(), $"plastic-cifar-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "cifar-10-batches-bin"));
            File.WriteAllBytes(Path.Combine(root, "cifar-10-batches-bin", "data_batch_1.bin"), new byte[8 * 3073]);
            var wrong = Run("run", "mlp-3", "--dataset", "cifar10", "--data", root, "--steps", "1", "--batch", "4");
            Assert.Equal(2, wrong.code);
            Assert.Contains("views are 3x32x32; network mlp-784-256-256-256 takes 784", wrong.errors);
            var missing = Run("run", "vgg6-cifar", "--dataset", "stl10", "--data", root, "--steps", "1");
            Assert.Contains("plastic data fetch stl10", missing.errors);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void A_run_on_a_data_set_saves_its_weights_and_probe_reads_them()
    {
        string root = Path.Combine(Path.GetTempPath(), $"plastic-probe-{Guid.NewGuid():N}"), folder = Path.Combine(root, "run");
        try
        {
            Plastic.Tests.Support.TestData.FakeCifar10(root, 40, 20, seed: 1);
            var run = Run("run", "vgg6-cifar-small", "--dataset", "cifar10", "--data", root, "--steps", "3", "--batch", "4", "--out", folder);
            Assert.True(run.code == 0, run.errors);
            var weights = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(folder, "weights.npz"));
            Assert.Equal([16, 3, 3, 3], weights["block1.weight"].Shape);
            Assert.Equal([16], weights["block1.bias"].Shape);
            var safetensors = Plastic.Datasets.Numpy.Safetensors.Read(Path.Combine(folder, "weights.safetensors"));
            Assert.Equal(weights.Keys.Order(), safetensors.Keys.Order());
            Assert.All(weights.Keys, k => Assert.Equal(weights[k].Values, safetensors[k].Values));
            var probe = Run("probe", folder, "--dataset", "cifar10", "--data", root, "--epochs", "2");
            Assert.True(probe.code == 0, probe.errors);
            Assert.Contains("final-epoch test accuracy", probe.output);
            Assert.Contains("(fast protocol)", probe.output);
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "probe.json")));
            Assert.Equal(40, doc.RootElement.GetProperty("train_images").GetInt32());
            Assert.InRange(doc.RootElement.GetProperty("final_accuracy").GetDouble(), 0, 1);
            var notRun = Run("probe", root, "--dataset", "cifar10", "--data", root);
            Assert.Contains("--untrained", notRun.errors);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void A_run_resumed_from_its_checkpoints_ends_with_the_weights_of_an_uninterrupted_one()
    {
        string root = Path.Combine(Path.GetTempPath(), $"plastic-resume-{Guid.NewGuid():N}");
        try
        {
            string[] common = ["run", "mlp-3", "--synthetic", "--batch", "4", "--lr", "1e-2", "--steps", "9", "--checkpoint-every", "3"];
            string cut = Path.Combine(root, "cut");
            Assert.Equal(0, Run([.. common, "--out", Path.Combine(root, "whole")]).code);
            Assert.Equal(0, Run([.. common, "--out", cut]).code);
            // As if killed after the checkpoint of step 5: the last checkpoint and the results never written.
            Directory.Delete(Path.Combine(cut, "checkpoints", "step-00000008"), recursive: true);
            File.Delete(Path.Combine(cut, "results.json"));
            var resumed = Run([.. common, "--out", cut, "--resume"]);
            Assert.True(resumed.code == 0, resumed.errors);
            Assert.Contains("resuming at step 6", resumed.output);
            // The loss summary covers the whole run: the kept history's first step, this attempt's last.
            Assert.Contains("loss: step 0", resumed.output);
            Assert.Contains(", step 8 ", resumed.output);
            var a = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(root, "whole", "weights.npz"));
            var b = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(root, "cut", "weights.npz"));
            Assert.All(a.Keys, k => Assert.Equal(a[k].Values, b[k].Values));
            // The history of the steps before the checkpoint is kept, the steps after it are run again: the same losses, row for row.
            Assert.Equal(File.ReadAllText(Path.Combine(root, "whole", "metrics.csv")), File.ReadAllText(Path.Combine(cut, "metrics.csv")));
            static int[] SpansPerStep(string folder) => [.. File.ReadLines(Path.Combine(folder, "traces.jsonl"))
                .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("tags"))
                .Where(t => t.TryGetProperty("plastic.step", out _)).GroupBy(t => t.GetProperty("plastic.step").GetInt64()).OrderBy(g => g.Key).Select(g => g.Count())];
            Assert.Equal(SpansPerStep(Path.Combine(root, "whole")), SpansPerStep(cut));
            Assert.Contains("--resume needs --out", Run("run", "mlp-3", "--synthetic", "--steps", "2", "--resume").errors);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Compare_trains_and_probes_every_variant_and_writes_its_table_and_refuses_unknown_keys()
    {
        string root = Path.Combine(Path.GetTempPath(), $"plastic-compare-{Guid.NewGuid():N}");
        try
        {
            Plastic.Tests.Support.TestData.FakeCifar10(root, 32, 16, seed: 3);
            string spec = Path.Combine(root, "spec.json");
            File.WriteAllText(spec, """
                { "name": "tiny", "base": { "network": "vgg6-cifar-small", "dataset": "cifar10", "steps": 2, "batch": 4, "alignEvery": 1, "probe": { "epochs": 2 } },
                  "variants": [ { "name": "CLAPP++", "set": { "rule": "clapp++" } }, { "name": "BP-InfoNCE", "set": { "rule": "bp-infonce", "graph": "backprop", "alignEvery": 0 } },
                                { "name": "random init", "untrained": true } ] }
                """);
            var (code, output, errors) = Run("compare", spec, "--data", root, "--out", Path.Combine(root, "out"));
            Assert.True(code == 0, errors);
            string table = File.ReadAllText(Path.Combine(root, "out", "compare.md"));
            Assert.Contains("| CLAPP++ | `clapp++` | yes | yes |", table);
            Assert.Contains("| BP-InfoNCE | `bp-infonce` | no | top layer |", table);
            Assert.Contains("| random init | `-` | - | - |", table);
            Assert.Contains("Alignment with backprop", table);
            Assert.Contains("Linear probe, **fast protocol**", table);
            Assert.Contains("| probe acc. final (fast protocol) | 95 % interval |", table);
            Assert.Contains("probe (fast protocol) accuracy final", output);
            Assert.True(File.Exists(Path.Combine(root, "out", "accuracy.png")));
            Assert.True(File.Exists(Path.Combine(root, "out", "clapp++", "weights.npz")));
            string json = File.ReadAllText(Path.Combine(root, "out", "results.json"));
            Assert.DoesNotContain("\\u002B", json);
            Assert.Contains("\"rule\": \"clapp++\"", json);
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            var rows = doc.RootElement.GetProperty("runs").EnumerateArray().ToList();
            Assert.Equal(3, rows.Count);
            Assert.True(rows[0].GetProperty("messages").GetInt64() > 0);   // forward activations between layers
            Assert.Equal(0, rows[2].GetProperty("messages").GetInt64());
            Assert.All(rows, r => Assert.Equal("fast", r.GetProperty("probe_protocol").GetString()));
            Assert.Equal("fast", doc.RootElement.GetProperty("probe_protocol").GetString());
            Assert.Equal(40, doc.RootElement.GetProperty("commit").GetString()!.Length);

            File.WriteAllText(spec, """{ "name": "x", "base": { "network": "mlp-3", "dataset": "cifar10", "steps": 1 }, "variants": [ { "name": "a", "set": { "rule": "clapp++", "lr": 1 } } ] }""");
            var bad = Run("compare", spec, "--data", root);
            Assert.Equal(2, bad.code);
            Assert.Contains("variant 'a' (seed 2): unknown key 'lr'", bad.errors);
            File.WriteAllText(spec, """{ "name": "x", "network": "mlp-3", "variants": [ { "name": "a", "rule": "clapp++" } ] }""");
            Assert.Contains("'network' belongs in 'base'", Run("compare", spec, "--data", root).errors);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Trace_of_a_folder_that_is_not_a_run_says_so()
    {
        var (code, _, errors) = Run("trace", Path.GetTempPath());
        Assert.Equal(2, code);
        Assert.Contains("no config.resolved.json", errors);
    }

    [Fact]
    public void Asking_for_a_missing_device_fails_with_the_list()
    {
        var (code, output, errors) = Run("bench", "kernels", "--device", "tpu", "--quick");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("plastic: device 'tpu': not a device", errors);
        Assert.DoesNotContain(" at ", errors); // one line, no stack trace
    }

    [Fact]
    public void Bench_train_reports_throughput_memory_and_utilisation_per_node()
    {
        var (code, output, errors) = Run("bench", "train", "mlp-3", "--steps", "4", "--warmup", "2", "--batch", "4", "--json");
        Assert.True(code == 0, errors);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("images_per_s").GetDouble() > 0);
        Assert.Equal("pipelined", root.GetProperty("schedule").GetString());
        Assert.True(root.GetProperty("tensor_peak_mb").GetDouble() > 0.8);      // fc1's weights alone: 784 x 256 floats
        Assert.Equal(0, root.GetProperty("tensor_live_at_end_mb").GetDouble()); // every tensor disposed with its actor
        Assert.Equal(["fc1", "fc2", "fc3"], root.GetProperty("utilisation").EnumerateObject().Select(p => p.Name));
        Assert.All(root.GetProperty("utilisation").EnumerateObject(), p => Assert.InRange(p.Value.GetProperty("fraction").GetDouble(), 0, 1));
        var bp = Run("bench", "train", "mlp-3", "--graph", "backprop", "--steps", "3", "--warmup", "1", "--batch", "4");
        Assert.True(bp.code == 0, bp.errors);
        Assert.Contains("backprop graph, sequential", bp.output);
        Assert.Matches(@"\n\s+loss\s+[0-9.]+ s busy", bp.output);                  // the loss node is a node too
        string comparison = Path.Combine(Path.GetTempPath(), $"plastic-bench-{Guid.NewGuid():N}.json");
        File.WriteAllText(comparison, """{ "name": "c", "base": { "network": "mlp-3", "steps": 2 }, "variants": [ { "name": "A", "set": { "rule": "clapp++" } } ] }""");
        try
        {
            Assert.Contains("name a variant with --variant (A)", Run("bench", "train", comparison).errors);
            Assert.Contains("no variant named or ruled 'zz'", Run("bench", "train", comparison, "--variant", "zz").errors);
            var a = Run("bench", "train", comparison, "--variant", "clapp++", "--steps", "2", "--warmup", "1", "--batch", "4");
            Assert.True(a.code == 0, a.errors);
            Assert.StartsWith("A: mlp-784-256-256-256, local graph", a.output);
        }
        finally
        {
            File.Delete(comparison);
        }
    }
}

/// <summary>Tests that redirect the process's Console run alone: any other test's output would land in their capture.</summary>
[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;
