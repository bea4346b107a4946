using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Plastic.Sim.Distributed;
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
        var spec = new Argument<string>("spec") { Description = $"A run spec (JSON with a 'network' key; see docs/specs.md), or a network spec file or preset for a quick run: {string.Join(", ", Presets.Names)}." };
        var set = new Option<string[]>("--set") { Description = "Override a key of the run spec: path=value (e.g. --set probe.epochs=5 --set optimizer.learningRate=1e-3). Repeatable.", AllowMultipleArgumentsPerToken = false };
        var synthetic = new Option<bool>("--synthetic") { Description = "Random two-view batches (the second view a noisy copy); same as --set dataset=synthetic." };
        var dataset = new Option<string?>("--dataset") { Description = "Train on a data set's training split through the augmentation pipeline: mnist, fashion-mnist, cifar10, cifar100, cifar100-coarse, stl10, tiny-imagenet; or a folder of PNG / JPEG images (unlabelled)." };
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
        var rule = new Option<string?>("--rule") { Description = $"Replace the network's default rule (layers that name their own keep it): {RulesCommand.Names}, with options after '/' (plastic rules)." };
        var device = PlasticCommand.DeviceOption();
        var variant = new Option<string?>("--variant") { Description = "With a comparison spec (or a folder holding spec.json): the variant to run (its name or rule; default: the first trained one)." };
        var placement = new Option<string?>("--placement") { Description = "With --cluster or --local-cluster: which role hosts which nodes, role=node,node;role=node (same as --set placement=...). Unnamed nodes stay in this process." };
        var clusterSeed = new Option<string?>("--cluster") { Description = "Run over an Akka cluster: host:port of a member to join through; workers are started with plastic node --role R --seed host:port." };
        var clusterHost = new Option<string>("--cluster-host") { Description = "With --cluster: the address this driver listens on and workers reach it at.", DefaultValueFactory = _ => "127.0.0.1" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Remove the run --out holds first; without it (or --resume) a folder holding a run is refused." };
        var smoke = new Option<bool>("--smoke") { Description = SmokeBudget.Description + " Applied before --set and the flags." };
        var recoverTimeout = new Option<double>("--recover-timeout")
        {
            Description = "With --cluster: seconds to wait for a live worker of a lost one's role to take over its nodes (with --local-cluster: for the replacement process to join). Recovery needs --checkpoint-every.",
            DefaultValueFactory = _ => 60,
        };
        var clusterLanePort = new Option<int>("--cluster-lane-port") { Description = "With --cluster: the port this driver serves its tensor lanes on, the connections large tensors take to the workers (0: any free port).", DefaultValueFactory = _ => 0 };
        var localCluster = new Option<int?>("--local-cluster") { Description = "Start N worker processes on 127.0.0.1 and run over them (the layers cut into N contiguous groups unless --placement says otherwise)." };
        var command = new Command("run", "Train a network as an actor graph (local or backprop), trace its message traffic, probe the encoder.")
        {
            spec, set, synthetic, dataset, dataRoot, steps, epochs, batch, schedule, seed, learningRate, graph, rule, negatives, alignEvery, checkpointEvery, resume, output, consoleTraces, device,
            variant, placement, clusterSeed, clusterHost, clusterLanePort, localCluster, recoverTimeout, smoke, overwrite,
        };
        command.SetAction(parse =>
        {
            string argument = parse.GetValue(spec)!;
            if (Directory.Exists(argument) && File.Exists(Path.Combine(argument, "spec.json"))) argument = Path.Combine(argument, "spec.json");
            if (File.Exists(argument) && argument.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) RunSpec.CheckSpecFile(argument);
            else if (!File.Exists(argument) && !Directory.Exists(argument) && !Presets.Names.Contains(argument))
                throw new ArgumentException($"{argument}: no such file, and not a preset (presets: {string.Join(", ", Presets.Names)}).");
            bool isRunSpec = RunSpec.IsRunSpec(argument);
            JsonObject tree;
            if (!isRunSpec && RunSpec.IsComparison(argument))
            {
                // One variant of a comparison runs as a run; without --variant, the first trained one (said so).
                string name = parse.GetValue(variant) ?? ComparisonSpec.Load(argument).Variants.FirstOrDefault(v => !v.Untrained)?.Name
                    ?? throw new ArgumentException($"{argument}: no trained variant to run.");
                if (parse.GetValue(variant) is null)
                    Console.WriteLine($"{argument} is a comparison: running its first trained variant, {name} (--variant picks another; plastic compare runs them all)");
                tree = ComparisonSpec.VariantAsRun(argument, name);
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
            // A folder given to --dataset (and not a catalogue name) is a folder of unlabelled images.
            Flag(dataset, "dataset", v => Directory.Exists(v) && Plastic.Datasets.Catalog.DatasetCatalog.All.All(d => d.Name != v)
                ? new JsonObject { ["images"] = Path.GetFullPath(v!) }.ToJsonString() : v!);
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
            var budget = parse.GetValue(smoke) ? SmokeBudget.For(tree).ToList() : [];
            foreach (var assignment in budget.Concat(assignments).Concat(sets)) RunSpec.Set(tree, assignment);
            string source = (isRunSpec ? argument : "the command line") + (sets.Length > 0 ? $" (with --set {string.Join(" --set ", sets)})" : "");
            if (parse.GetValue(synthetic) && parse.GetValue(dataset) is { } both)
                throw new ArgumentException($"--synthetic and --dataset {both}: give one, not both.");
            if (!isRunSpec && parse.GetValue(synthetic) == (parse.GetValue(dataset) is not null) && !sets.Any(s => s.StartsWith("dataset=", StringComparison.Ordinal)))
                throw new ArgumentException("Choose the data: --synthetic, or --dataset <name> (with --data or PLASTIC_DATA); or give a run spec.");
            var run = RunSpec.From(tree, source);
            bool clustered = parse.GetValue(clusterSeed) is not null || parse.GetValue(localCluster) is not null;
            if (parse.GetValue(clusterSeed) is { } seedNode && parse.GetValue(localCluster) is { } workers)
                throw new ArgumentException($"--cluster {seedNode} and --local-cluster {workers}: give one, not both.");
            if (parse.GetValue(localCluster) is < 1) throw new ArgumentException($"--local-cluster {parse.GetValue(localCluster)}: at least 1 worker process.");
            if (clustered) ClusterSettings.LanesFromEnvironment(); // refuses a bad $PLASTIC_LANES before the run folder is made
            if (parse.GetValue(clusterLanePort) is < 0 or > 65535)
                throw new ArgumentException($"--cluster-lane-port {parse.GetValue(clusterLanePort)}: give a port from 1 to 65535, or 0 for any free port.");
            double recoverSeconds = parse.GetValue(recoverTimeout);
            if (!(recoverSeconds is >= 0 and <= 86_400)) throw new ArgumentException($"--recover-timeout {recoverSeconds}: give seconds from 0 to 86400.");
            RunExecution.Execute(new RunRequest(run, specDir, parse.GetValue(dataRoot), parse.GetValue(output), parse.GetValue(resume), parse.GetValue(consoleTraces))
            {
                Overwrite = parse.GetValue(overwrite),
                Progress = RunProgress.Factory,
                Cluster = clustered ? new Cluster.DriverClusterLauncher(parse.GetValue(clusterSeed), parse.GetValue(localCluster), parse.GetValue(clusterHost)!,
                    TimeSpan.FromSeconds(recoverSeconds), parse.GetValue(clusterLanePort)) : null,
            });
            return 0;
        });
        return command;
    }
}
