using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Plastic.Compute;
using Plastic.Sim;
using Plastic.Sim.Negatives;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Cli;

/// <summary>
/// `plastic run &lt;spec&gt; --synthetic`: a local-learning run of the actor graph on synthetic two-view
/// data, traced, into a run folder (config.resolved.json, metrics.csv, traces.jsonl, results.json).
/// </summary>
public static class RunCommand
{
    public static Command Build()
    {
        var spec = new Argument<string>("spec") { Description = $"A network spec file (JSON) or a preset: {string.Join(", ", Presets.Names)}." };
        var synthetic = new Option<bool>("--synthetic") { Description = "Random two-view batches (the second view a noisy copy)." };
        var dataset = new Option<string?>("--dataset") { Description = "Train on a data set's training split through the augmentation pipeline: mnist, fashion-mnist, cifar10, stl10, tiny-imagenet." };
        var dataRoot = new Option<string?>("--data") { Description = "Data root (default: $PLASTIC_DATA, else ~/.cache/plastic/data)." };
        var steps = new Option<int>("--steps") { Description = "Training steps.", DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch") { Description = "Samples per view per step.", DefaultValueFactory = _ => 8 };
        var schedule = new Option<string?>("--schedule") { Description = "pipelined (up to 4 steps in flight; the local graph's default) or sequential (the only one backprop allows)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of weights, rules and data (PAPER.md: 2).", DefaultValueFactory = _ => 2UL };
        var learningRate = new Option<float>("--lr") { Description = "AdamW learning rate (PAPER.md: 2e-4).", DefaultValueFactory = _ => 2e-4f };
        var graph = new Option<string>("--graph") { Description = "local (each layer learns from its own loss) or backprop (a loss at the top, gradients sent down: BP-CLAPP++ by default, BP-InfoNCE with --rule bp-infonce).", DefaultValueFactory = _ => "local" };
        var output = new Option<string?>("--out") { Description = "Run folder (default runs/<network>/<time>-<graph>)." };
        var consoleTraces = new Option<bool>("--console-traces") { Description = "Also print every span with OpenTelemetry's console exporter." };
        var negatives = new Option<string>("--negatives") { Description = "Each sample's negative: next (the released code's next sample), random (uniform, shared by all layers) or shift (one random rotation).", DefaultValueFactory = _ => "next" };
        var alignEvery = new Option<int>("--align-every") { Description = "Every N steps, measure each layer's local update against backprop on a snapshot (local graph; 0: off). Writes alignment.csv.", DefaultValueFactory = _ => 0 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Write every layer's state to <run folder>/checkpoints after every N steps (0: off).", DefaultValueFactory = _ => 0 };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its latest complete checkpoint (same options as the run that stopped)." };
        var rule = new Option<string?>("--rule") { Description = "Replace the network's default rule (layers that name their own keep it)." };
        var device = PlasticCommand.DeviceOption();
        var command = new Command("run", "Run a network as an actor graph and trace its message traffic.")
        {
            spec, synthetic, dataset, dataRoot, steps, batch, schedule, seed, learningRate, graph, rule, negatives, alignEvery, checkpointEvery, resume, output, consoleTraces, device,
        };
        command.SetAction(parse =>
        {
            var network = DescribeCommand.Resolve(parse.GetValue(spec)!);
            if (parse.GetValue(rule) is { } ruleName) network = network with { Rule = ruleName };
            string? datasetName = parse.GetValue(dataset);
            if (parse.GetValue(synthetic) == (datasetName is not null))
                throw new ArgumentException("Choose the data: --synthetic, or --dataset <name> (with --data or PLASTIC_DATA).");
            string graphName = parse.GetValue(graph)!;
            var graphKind = graphName switch
            {
                "local" => GraphKind.Local,
                "backprop" => GraphKind.Backprop,
                _ => throw new ArgumentException($"--graph {graphName}: choose local or backprop."),
            };
            string scheduleName = parse.GetValue(schedule) ?? (graphKind == GraphKind.Local ? "pipelined" : "sequential");
            int inFlight = scheduleName switch
            {
                "pipelined" => 4,
                "sequential" => 1,
                _ => throw new ArgumentException($"--schedule {scheduleName}: choose pipelined or sequential."),
            };
            int stepCount = parse.GetValue(steps), batchSize = parse.GetValue(batch);
            if (stepCount < 1) throw new ArgumentException($"--steps must be at least 1, got {stepCount}.");
            if (batchSize < 2) throw new ArgumentException($"--batch must be at least 2 (each sample needs a negative), got {batchSize}.");
            bool resuming = parse.GetValue(resume);
            if (resuming && parse.GetValue(output) is null) throw new ArgumentException("--resume needs --out <the folder of the run to continue>.");
            string folder = parse.GetValue(output) ?? Path.Combine("runs", network.Name, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{graphName}");
            int every = parse.GetValue(checkpointEvery);
            var options = new RunOptions(stepCount, batchSize, parse.GetValue(seed), inFlight, parse.GetValue(learningRate), graphKind,
                Negatives: NegativeSampler.Parse(parse.GetValue(negatives)!), AlignEvery: parse.GetValue(alignEvery),
                CheckpointEvery: every, CheckpointDirectory: every > 0 || resuming ? Path.Combine(folder, "checkpoints") : null, Resume: resuming);
            Directory.CreateDirectory(folder);
            string? deviceName = parse.GetValue(device);

            using var source = datasetName is null ? null : DataSource(datasetName, parse.GetValue(dataRoot), network, options);
            WriteConfig(folder, network, options, graphName, scheduleName, deviceName, datasetName ?? "synthetic");
            RunResult result;
            using (var tracing = StartTracing(Path.Combine(folder, "traces.jsonl"), parse.GetValue(consoleTraces)))
            using (var metrics = StartMetrics(parse.GetValue(consoleTraces)))
                result = Simulation.RunAsync(network, options, () => BackendCatalog.Create(deviceName, cpuThreads: 1), source).GetAwaiter().GetResult();
            WriteMetrics(folder, result);
            WriteResults(folder, result, options);
            WeightsFile.Write(Path.Combine(folder, WeightsFile.Name), network, result.Parameters);
            RunPlots.Losses(Path.Combine(folder, "loss.png"), $"{network.Name} ({graphName}): loss per layer", result.Losses,
                network.Layers.Select(l => l.Name).Append(Plastic.Sim.Protocol.GraphWiring.LossNode));
            if (!result.Alignment.IsEmpty)
                RunPlots.Alignment(Path.Combine(folder, "alignment.png"), $"{network.Name}: alignment with backprop per layer",
                    [(network.Rule, LayerAlignmentSummary.Of(result.Alignment.Select(a => a.Layer)))]);
            Console.WriteLine($"ran {stepCount} steps of {network.Name} ({graphName}, {scheduleName}) in {result.Elapsed.TotalSeconds:F2} s; run folder: {folder}");
            foreach (var (node, losses) in LossesThatExist(result))
            {
                int first = losses.ToList().FindIndex(v => !double.IsNaN(v));
                Console.WriteLine($"  {node,-10} loss: step {first} {losses[first]:F4}, last step {losses[^1]:F4}");
            }
            if (!result.Alignment.IsEmpty)
            {
                WriteAlignment(folder, result);
                Console.WriteLine($"  alignment with backprop over {result.Alignment.Length / network.Layers.Count} snapshots (alignment.csv): cosine mean +-95%, error-signal cosine");
                foreach (var s in LayerAlignmentSummary.Of(result.Alignment.Select(a => a.Layer)))
                    Console.WriteLine($"  {s.Layer,-10} {s.Cosine,8:F4} +-{s.Interval95:F4}   error {s.ErrorCosine:F4}");
            }
            Console.WriteLine($"next: plastic trace {folder}");
            return 0;
        });
        return command;
    }

    private static TracerProvider StartTracing(string spansPath, bool console)
    {
        var builder = Sdk.CreateTracerProviderBuilder()
            .AddSource(SimTelemetry.Name)
            .AddProcessor(new BatchActivityExportProcessor(new JsonlSpanExporter(spansPath)));
        if (console) builder.AddConsoleExporter();
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"))) builder.AddOtlpExporter();
        return builder.Build();
    }

    /// <summary>The message and byte counters go to the console with --console-traces and to OTLP when an endpoint is set.</summary>
    private static MeterProvider? StartMetrics(bool console)
    {
        bool otlp = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        if (!console && !otlp) return null;
        var builder = Sdk.CreateMeterProviderBuilder().AddMeter(SimTelemetry.Name);
        if (console) builder.AddConsoleExporter();
        if (otlp) builder.AddOtlpExporter();
        return builder.Build();
    }

    /// <summary>The training split of a data set through the two-view pipeline; its views must fit the network's input.</summary>
    private static DatasetBatches DataSource(string name, string? root, NetworkSpec network, RunOptions options)
    {
        Plastic.Datasets.Catalog.DatasetCatalog.ByName(name);
        string dir = Plastic.Datasets.Catalog.DataRoot.Resolve(root);
        Plastic.Datasets.Readers.LabelledImages images;
        try { images = Plastic.Datasets.Readers.DatasetSplits.Train(dir, name); }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException($"--dataset {name}: {e.Message} (plastic data fetch {name})"); }
        var settings = Plastic.Datasets.Augment.AugmentSettings.For(name);
        int viewSize = images.Channels * settings.Size * settings.Size;
        if (viewSize != network.Input.Channels * network.Input.Height * network.Input.Width)
            throw new ArgumentException($"--dataset {name}: its views are {images.Channels}x{settings.Size}x{settings.Size}; network {network.Name} takes {network.Input}.");
        if (images.Count < options.BatchSize) throw new ArgumentException($"--dataset {name}: {images.Count} images, fewer than one batch of {options.BatchSize}.");
        var pipeline = new Plastic.Datasets.Pipeline.TwoViewPipeline(images, settings, options.BatchSize, options.Seed, workers: Math.Max(1, Environment.ProcessorCount - 1));
        return new DatasetBatches(pipeline, options.Seed, options.Negatives);
    }

    private static void WriteConfig(string folder, NetworkSpec network, RunOptions options, string graph, string schedule, string? device, string data)
    {
        var config = new JsonObject
        {
            ["spec"] = JsonNode.Parse(NetworkSpecJson.Serialize(network)),
            ["graph"] = graph,
            ["data"] = data,
            ["steps"] = options.Steps,
            ["batch"] = options.BatchSize,
            ["schedule"] = schedule,
            ["max_in_flight"] = options.MaxInFlight,
            ["seed"] = options.Seed,
            ["negatives"] = options.Negatives.ToString().ToLowerInvariant(),
            ["align_every"] = options.AlignEvery,
            ["checkpoint_every"] = options.CheckpointEvery,
            ["learning_rate"] = options.LearningRate,
            ["device"] = device ?? Environment.GetEnvironmentVariable(BackendCatalog.DeviceVariable) ?? "auto",
            ["commit"] = GitCommit(),
        };
        File.WriteAllText(Path.Combine(folder, "config.resolved.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void WriteMetrics(string folder, RunResult result)
    {
        var csv = new StringBuilder("step,node,loss\n");
        foreach (var (node, losses) in LossesThatExist(result))
            for (int step = 0; step < losses.Length; step++)
                if (!double.IsNaN(losses[step])) // a resumed run has no losses for the steps before its checkpoint
                    csv.Append(CultureInfo.InvariantCulture, $"{step},{node},{losses[step]:R}\n");
        File.WriteAllText(Path.Combine(folder, "metrics.csv"), csv.ToString());
    }

    private static void WriteAlignment(string folder, RunResult result)
    {
        var csv = new StringBuilder("step,layer,cosine,norm_ratio,error_cosine\n");
        foreach (var a in result.Alignment)
            csv.Append(CultureInfo.InvariantCulture, $"{a.Step},{a.Layer.Layer},{a.Layer.Cosine:R},{a.Layer.NormRatio:R},{a.Layer.ErrorCosine:R}\n");
        File.WriteAllText(Path.Combine(folder, "alignment.csv"), csv.ToString());
    }

    private static void WriteResults(string folder, RunResult result, RunOptions options)
    {
        var results = new JsonObject
        {
            ["elapsed_seconds"] = result.Elapsed.TotalSeconds,
            ["steps_per_second"] = options.Steps / result.Elapsed.TotalSeconds,
            ["final_loss"] = new JsonObject(LossesThatExist(result).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value[^1])))),
        };
        if (!result.Alignment.IsEmpty)
            results["alignment"] = new JsonArray(LayerAlignmentSummary.Of(result.Alignment.Select(a => a.Layer)).Select(s => (JsonNode)new JsonObject
            {
                ["layer"] = s.Layer, ["measurements"] = s.Measurements, ["cosine"] = s.Cosine,
                ["interval95"] = double.IsNaN(s.Interval95) ? null : s.Interval95, ["norm_ratio"] = s.NormRatio,
                ["error_cosine"] = double.IsNaN(s.ErrorCosine) ? null : s.ErrorCosine,
            }).ToArray());
        File.WriteAllText(Path.Combine(folder, "results.json"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Nodes that report a loss (every layer of a local graph; the loss node of a backprop graph), in spec order.</summary>
    private static IEnumerable<KeyValuePair<string, System.Collections.Immutable.ImmutableArray<double>>> LossesThatExist(RunResult result) =>
        result.Losses.Where(kv => kv.Value.Length > 0 && !double.IsNaN(kv.Value[^1])).OrderBy(kv => kv.Key, StringComparer.Ordinal);

    /// <summary>The commit of the working tree the tool runs in, for provenance; "unknown" outside a git checkout.</summary>
    internal static string GitCommit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse HEAD") { RedirectStandardOutput = true, RedirectStandardError = true });
            string text = git!.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && text.Length == 40 ? text : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
