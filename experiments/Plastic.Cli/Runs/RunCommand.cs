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
using Plastic.Datasets.Pipeline;
using Plastic.Sim;
using Plastic.Sim.Probes;
using Plastic.Sim.Negatives;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Cli.Runs;

/// <summary>
/// `plastic run &lt;run spec.json&gt;` (or a network spec or preset with flags): trains a network through the
/// actor graph, local or backprop, on a data set or synthetic data, with progress on the console; writes
/// the run folder (config.resolved.json, metrics.csv, traces.jsonl, results.json, weights, plots) and, with
/// a probe in the spec, the linear probes of the trained encoder (and an online probe during training).
/// </summary>
public static class RunCommand
{
    public static Command Build()
    {
        var spec = new Argument<string>("spec") { Description = $"A run spec (JSON with a 'network' key; see README), or a network spec file or preset for a quick run: {string.Join(", ", Presets.Names)}." };
        var set = new Option<string[]>("--set") { Description = "Override a key of the run spec: path=value (e.g. --set probe.epochs=5 --set optimizer.learningRate=1e-3). Repeatable.", AllowMultipleArgumentsPerToken = false };
        var synthetic = new Option<bool>("--synthetic") { Description = "Random two-view batches (the second view a noisy copy); same as --set dataset=synthetic." };
        var dataset = new Option<string?>("--dataset") { Description = "Train on a data set's training split through the augmentation pipeline: mnist, fashion-mnist, cifar10, stl10, tiny-imagenet." };
        var dataRoot = new Option<string?>("--data") { Description = "Data root (default: $PLASTIC_DATA, else ~/.cache/plastic/data)." };
        var steps = new Option<long?>("--steps") { Description = "Training steps (a network without a run spec: 20)." };
        var epochs = new Option<double?>("--epochs") { Description = "Epochs of the training split, instead of --steps." };
        var batch = new Option<int?>("--batch") { Description = "Samples per view per step (run spec default 32, the paper's; a network without a run spec: 8)." };
        var schedule = new Option<string?>("--schedule") { Description = "pipelined (up to 4 steps in flight; the local graph's default), sequential (the only one backprop allows) or greedy (layer by layer; with layerEpochs or layerSteps in the spec, or --set)." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of weights, rules and data (default 2, the paper's)." };
        var learningRate = new Option<float?>("--lr") { Description = "AdamW learning rate (default 2e-4, the paper's)." };
        var graph = new Option<string?>("--graph") { Description = "local (each layer learns from its own loss) or backprop (a loss at the top, gradients sent down: BP-CLAPP++ by default, BP-InfoNCE with --rule bp-infonce)." };
        var output = new Option<string?>("--out") { Description = "Run folder (default runs/<network>/<time>-<graph>)." };
        var consoleTraces = new Option<bool>("--console-traces") { Description = "Also print every span with OpenTelemetry's console exporter." };
        var negatives = new Option<string?>("--negatives") { Description = "Each sample's negative: next (the released code's next sample, the default), random (uniform, shared by all layers) or shift (one random rotation)." };
        var alignEvery = new Option<int?>("--align-every") { Description = "Every N steps, measure each layer's local update against backprop on a snapshot (local graph; 0: off). Writes alignment.csv." };
        var checkpointEvery = new Option<int?>("--checkpoint-every") { Description = "Write every layer's state to <run folder>/checkpoints after every N steps (0: off)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its latest complete checkpoint (same spec and options as the run that stopped)." };
        var rule = new Option<string?>("--rule") { Description = "Replace the network's default rule (layers that name their own keep it)." };
        var device = PlasticCommand.DeviceOption();
        var variant = new Option<string?>("--variant") { Description = "With a comparison spec (or a folder holding spec.json): the variant to run (its name or rule; default: the first trained one)." };
        var placement = new Option<string?>("--placement") { Description = "With --cluster or --local-cluster: which role hosts which nodes, role=node,node;role=node (same as --set placement=...). Unnamed nodes stay in this process." };
        var clusterSeed = new Option<string?>("--cluster") { Description = "Run over an Akka cluster: host:port of a member to join through; workers are started with plastic node --role R --seed host:port." };
        var clusterHost = new Option<string>("--cluster-host") { Description = "With --cluster: the address this driver listens on and workers reach it at.", DefaultValueFactory = _ => "127.0.0.1" };
        var localCluster = new Option<int?>("--local-cluster") { Description = "Start N worker processes on 127.0.0.1 and run over them (the layers cut into N contiguous groups unless --placement says otherwise)." };
        var command = new Command("run", "Train a network as an actor graph (local or backprop), trace its message traffic, probe the encoder.")
        {
            spec, set, synthetic, dataset, dataRoot, steps, epochs, batch, schedule, seed, learningRate, graph, rule, negatives, alignEvery, checkpointEvery, resume, output, consoleTraces, device,
            variant, placement, clusterSeed, clusterHost, localCluster,
        };
        command.SetAction(parse =>
        {
            string argument = parse.GetValue(spec)!;
            if (Directory.Exists(argument) && File.Exists(Path.Combine(argument, "spec.json"))) argument = Path.Combine(argument, "spec.json");
            bool isRunSpec = RunSpec.IsRunSpec(argument);
            JsonObject tree;
            if (!isRunSpec && RunSpec.IsComparison(argument))
            {
                // One variant of a comparison runs as a run; without --variant, the first trained one (said so).
                string name = parse.GetValue(variant) ?? Compare.ComparisonSpec.Load(argument).Variants.FirstOrDefault(v => !v.Untrained)?.Name
                    ?? throw new ArgumentException($"{argument}: no trained variant to run.");
                if (parse.GetValue(variant) is null)
                    Console.WriteLine($"{argument} is a comparison: running its first trained variant, {name} (--variant picks another; plastic compare runs them all)");
                tree = Compare.ComparisonSpec.VariantAsRun(argument, name);
                isRunSpec = true;
            }
            else
            {
                if (parse.GetValue(variant) is not null) throw new ArgumentException($"--variant picks a variant of a comparison spec; {argument} is not one.");
                tree = isRunSpec ? RunSpec.Read(argument) : new JsonObject { ["network"] = argument, ["steps"] = 20, ["batch"] = 8 };
            }
            string specDir = isRunSpec ? Path.GetDirectoryName(Path.GetFullPath(argument))! : Directory.GetCurrentDirectory();
            // Flags are shorthands for --set; both override what the spec says.
            var assignments = new List<string>();
            void Flag<T>(Option<T> option, string path, Func<T, string> text) { if (parse.GetValue(option) is { } v) assignments.Add($"{path}={text(v)}"); }
            if (parse.GetValue(synthetic)) assignments.Add("dataset=synthetic");
            Flag(dataset, "dataset", v => v!);
            Flag(steps, "steps", v => v!.Value.ToString(CultureInfo.InvariantCulture));
            Flag(epochs, "epochs", v => v!.Value.ToString("R", CultureInfo.InvariantCulture));
            Flag(batch, "batch", v => v!.Value.ToString(CultureInfo.InvariantCulture));
            Flag(schedule, "schedule", v => v!);
            Flag(seed, "seed", v => v!.Value.ToString(CultureInfo.InvariantCulture));
            Flag(learningRate, "optimizer.learningRate", v => v!.Value.ToString("R", CultureInfo.InvariantCulture));
            Flag(graph, "graph", v => v!);
            Flag(rule, "rule", v => v!);
            Flag(negatives, "negatives", v => v!);
            Flag(alignEvery, "alignEvery", v => v!.Value.ToString(CultureInfo.InvariantCulture));
            Flag(checkpointEvery, "checkpointEvery", v => v!.Value.ToString(CultureInfo.InvariantCulture));
            Flag(device, "device", v => v!);
            Flag(placement, "placement", v => v!);
            if (parse.GetValue(epochs) is not null) tree.Remove("steps");
            if (parse.GetValue(steps) is not null) tree.Remove("epochs");
            var sets = parse.GetValue(set) ?? [];
            foreach (var assignment in assignments.Concat(sets)) RunSpec.Set(tree, assignment);
            string source = (isRunSpec ? argument : "the command line") + (sets.Length > 0 ? $" (with --set {string.Join(" --set ", sets)})" : "");
            if (!isRunSpec && parse.GetValue(synthetic) == (parse.GetValue(dataset) is not null) && !sets.Any(s => s.StartsWith("dataset=", StringComparison.Ordinal)))
                throw new ArgumentException("Choose the data: --synthetic, or --dataset <name> (with --data or PLASTIC_DATA); or give a run spec.");
            var run = RunSpec.From(tree, source);
            return Execute(run, specDir, parse.GetValue(dataRoot), parse.GetValue(output), parse.GetValue(resume), parse.GetValue(consoleTraces),
                parse.GetValue(clusterSeed), parse.GetValue(localCluster), parse.GetValue(clusterHost)!);
        });
        return command;
    }

    private static int Execute(RunSpec run, string specDir, string? dataRoot, string? output, bool resuming, bool consoleTraces, string? clusterSeed, int? localWorkers, string clusterHost)
    {
        var network = Resolve(run.Network, specDir);
        if (run.Rule is { } ruleName) network = network with { Rule = ruleName };
        var graphKind = run.Graph == "local" ? GraphKind.Local : GraphKind.Backprop;
        string scheduleName = run.Schedule ?? (graphKind == GraphKind.Local ? "pipelined" : "sequential");
        int inFlight = scheduleName switch
        {
            "pipelined" or "greedy" => 4,
            "sequential" => 1,
            _ => throw new ArgumentException($"schedule '{scheduleName}': choose pipelined, sequential or greedy."),
        };
        if (resuming && output is null) throw new ArgumentException("--resume needs --out <the folder of the run to continue>.");
        var negatives = NegativeSampler.Parse(run.Negatives);

        var data = run.Dataset == "synthetic" ? null : LabelledData.Load(run.Dataset, dataRoot, network, run);
        // The resolved spec names the split that was read, the default included.
        if (data is not null) run = run with { SslSplit = Plastic.Datasets.Readers.DatasetSplits.SelfSupervisedSplit(run.Dataset, run.SslSplit) };
        long stepCount = run.StepsFor(data?.SelfSupervised.Count ?? 0);
        string folder = output ?? Path.Combine("runs", network.Name, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{run.Graph}");
        var probe = run.Probe;
        var options = new RunOptions(stepCount, run.Batch, run.Seed, inFlight, run.Optimizer.LearningRate, graphKind,
            Negatives: negatives, AlignEvery: run.AlignEvery,
            CheckpointEvery: run.CheckpointEvery, CheckpointDirectory: run.CheckpointEvery > 0 || resuming ? Path.Combine(folder, "checkpoints") : null, Resume: resuming,
            ObserveEvery: probe?.OnlineEvery ?? 0, WeightDecay: run.Optimizer.WeightDecay,
            LayerSteps: run.LayerStepsFor(data?.SelfSupervised.Count ?? 0) is { } greedy ? [.. greedy] : default);
        if (!options.LayerSteps.IsDefaultOrEmpty && options.LayerSteps.Length != network.Layers.Count)
            throw new ArgumentException($"schedule greedy: {network.Name} has {network.Layers.Count} layers; give one entry per layer in 'layerEpochs' / 'layerSteps', not {options.LayerSteps.Length}.");
        Directory.CreateDirectory(folder);
        bool clustered = clusterSeed is not null || localWorkers is not null;
        if (!clustered && run.Placement is not null) throw new ArgumentException("A placement takes effect over a cluster: add --cluster <seed> or --local-cluster <N>.");
        var placement = clustered ? Cluster.DriverCluster.PlacementFor(run.Placement, network, graphKind, localWorkers, clusterSeed) : null;
        if (placement is not null) run = run with { Placement = placement.ToString() };

        using var source = data is null ? null : new DatasetBatches(
            new TwoViewPipeline(data.SelfSupervised, data.Augment, options.BatchSize, options.Seed, workers: Math.Max(1, Environment.ProcessorCount - 1)), options.Seed, options.Negatives);
        RunFolderFiles.WriteConfig(folder, network, options, run, scheduleName);
        var nodes = Simulation.ComputeNodes(network, graphKind);
        long firstStep = resuming && Plastic.Sim.Checkpoints.LayerCheckpoint.LatestComplete(options.CheckpointDirectory!) is { } c ? c + 1 : 0;
        using var onlineBackend = probe is { OnlineEvery: > 0 } ? BackendCatalog.Create(run.Device, cpuThreads: 1) : null;
        var online = probe is { OnlineEvery: > 0 } && data is not null
            ? new OnlineProbe(network, onlineBackend!, run.Seed, ProbeFeatures.Keep(data.ProbeTrain!, data.Augment, probe.OnlineTrainImages),
                ProbeFeatures.Keep(data.Test!, data.Augment, probe.OnlineTestImages), data.ProbeTrain!.Classes, probe.OnlineEpochs)
            : null;
        var progress = new RunProgress(nodes, stepCount, firstStep, run.Batch, online is null ? null : (step, parameters) =>
        {
            var point = online.Measure(step, parameters);
            Console.WriteLine($"  online probe (fast protocol) at step {step}: {point.FinalAccuracy:P2} (final epoch), {point.BestAccuracy:P2} (best)");
        });
        Console.WriteLine($"{network.Name} ({run.Graph}, {scheduleName}): {stepCount} steps of {run.Batch} x 2 views of {run.Dataset}{(data is null ? "" : $" ({run.SslSplit} split, {data.SelfSupervised.Count:N0} images)")}{(firstStep > 0 ? $", resuming at step {firstStep}" : "")}; run folder {folder}");
        RunResult result;
        int? threads = LayerThreads.For(graphKind, inFlight);
        using (var cluster = placement is null ? null : Cluster.DriverCluster.Start(network, graphKind, run.Batch, options.AlignEvery > 0 || options.ObserveEvery > 0, placement, clusterSeed, localWorkers, run.Device, threads, folder, clusterHost))
        using (var tracing = StartTracing(Path.Combine(folder, "traces.jsonl"), consoleTraces))
        using (var metrics = StartMetrics(consoleTraces))
            result = progress.Show(() => Simulation.RunAsync(network, options, () => BackendCatalog.Create(run.Device, threads), source, observer: progress, cluster: cluster?.Run).GetAwaiter().GetResult());
        RunFolderFiles.WriteMetrics(folder, result);
        WeightsFile.Write(Path.Combine(folder, WeightsFile.Name), network, result.Parameters);
        RunPlots.Losses(Path.Combine(folder, "loss.png"), $"{network.Name} ({run.Graph}): loss per layer", result.Losses,
            network.Layers.Select(l => l.Name).Append(Plastic.Sim.Protocol.GraphWiring.LossNode));
        if (!result.Alignment.IsEmpty)
            RunPlots.Alignment(Path.Combine(folder, "alignment.png"), $"{network.Name}: alignment with backprop per layer",
                [(network.Rule, LayerAlignmentSummary.Of(result.Alignment.Select(a => a.Layer)))]);
        Console.WriteLine($"ran {stepCount - firstStep} steps of {network.Name} ({run.Graph}, {scheduleName}{(placement is null ? "" : $", placement {placement}")}) in {result.Elapsed.TotalSeconds:F2} s " +
            $"({(stepCount - firstStep) * run.Batch / result.Elapsed.TotalSeconds:F1} images/s, start-up included); run folder: {folder}");
        foreach (var (node, losses) in RunFolderFiles.LossesThatExist(result))
        {
            int first = losses.ToList().FindIndex(v => !double.IsNaN(v));
            int last = losses.ToList().FindLastIndex(v => !double.IsNaN(v));
            Console.WriteLine($"  {node,-10} loss: step {first} {losses[first]:F4}, step {last} {losses[last]:F4}");
        }
        if (!result.Alignment.IsEmpty)
        {
            RunFolderFiles.WriteAlignment(folder, result);
            Console.WriteLine($"  alignment with backprop over {result.Alignment.Length / network.Layers.Count} snapshots (alignment.csv): cosine mean +-95%, error-signal cosine");
            foreach (var s in LayerAlignmentSummary.Of(result.Alignment.Select(a => a.Layer)))
                Console.WriteLine($"  {s.Layer,-10} {s.Cosine,8:F4} +-{s.Interval95:F4}   error {s.ErrorCosine:F4}");
        }
        if (online is not null && online.Points.Count > 0)
        {
            File.WriteAllText(Path.Combine(folder, "online_probe.csv"), "step,protocol,final_accuracy,best_accuracy\n"
                + string.Concat(online.Points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Step},fast,{p.FinalAccuracy:R},{p.BestAccuracy:R}\n"))));
            RunPlots.OnlineProbe(Path.Combine(folder, "online_probe.png"), $"{network.Name} ({run.Graph}): online probe (fast protocol)", [(network.Rule, online.Points)]);
        }
        ProbeReport? report = null;
        if (probe is not null && data is not null)
        {
            using var backend = BackendCatalog.Create(run.Device);
            report = ProbeCommand.Probe(network, backend, run.Seed, result.Parameters, data.ProbeTrain!, data.Test!, data.Augment,
                new ProbeSettings(probe.Epochs, probe.TrainImages, probe.TestImages, probe.PerLayer, probe.Knn, ProbeProtocols.Parse(probe.Protocol, "probe.protocol")), Console.WriteLine);
            File.WriteAllText(Path.Combine(folder, "probe.json"), ProbeCommand.Json(report, run.Dataset).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        RunFolderFiles.WriteResults(folder, result, options, report, online?.Points);
        Console.WriteLine($"next: plastic trace {folder}");
        return 0;
    }

    internal static NetworkSpec Resolve(string network, string specDir)
    {
        if (Presets.Names.Contains(network)) return Presets.ByName(network);
        string path = Path.IsPathRooted(network) || File.Exists(network) ? network : Path.Combine(specDir, network);
        return DescribeCommand.Resolve(File.Exists(path) ? path : network);
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
