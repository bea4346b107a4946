using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Plastic.Cli.Compare;
using Plastic.Cli.Runs;
using Plastic.Compute;
using Plastic.Sim;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Cli.Bench;

/// <summary>
/// `plastic bench train`: steady-state training throughput (images/s, counting each two-view sample once,
/// as the comparison does), training memory and per-node utilisation of one configuration: a run spec, a
/// network with --rule/--graph, or one variant of a comparison spec. Synthetic batches of the spec's
/// shape by default, so the data pipeline is left out (as in the PyTorch peer); --dataset puts it in.
/// </summary>
public static class BenchTrainCommand
{
    public static Command Build()
    {
        var spec = new Argument<string>("spec") { Description = "A run spec, a comparison spec (with --variant), or a network spec or preset." };
        var variant = new Option<string?>("--variant") { Description = "The comparison variant to measure: its name or its rule (e.g. clapp++, bp-infonce)." };
        var rule = new Option<string?>("--rule") { Description = "Replace the rule (e.g. bp-infonce with --graph backprop)." };
        var graph = new Option<string?>("--graph") { Description = "local or backprop (default: the spec's, else local)." };
        var schedule = new Option<string?>("--schedule") { Description = "pipelined or sequential (default: pipelined for local, sequential for backprop)." };
        var batch = new Option<int?>("--batch") { Description = "Samples per view (default: the spec's, else 32)." };
        var steps = new Option<int>("--steps") { Description = "Timed steps.", DefaultValueFactory = _ => 50 };
        var warmup = new Option<int>("--warmup") { Description = "Steps before the timed ones (JIT, first allocations, pipeline fill).", DefaultValueFactory = _ => 10 };
        var dataset = new Option<string?>("--dataset") { Description = "Train on this data set through the augmentation pipeline instead of synthetic batches (e.g. cifar10)." };
        var data = new Option<string?>("--data") { Description = "Data root for --dataset (default: $PLASTIC_DATA, else ~/.cache/plastic/data)." };
        var json = new Option<bool>("--json") { Description = "One JSON object (images_per_s, memory, utilisation) instead of text." };
        var device = PlasticCommand.DeviceOption();
        var command = new Command("train", "Steady-state training images/s, memory and per-layer utilisation of one configuration.")
            { spec, variant, rule, graph, schedule, batch, steps, warmup, dataset, data, json, device };
        command.SetAction(parse =>
        {
            var (spec0, specDir, name) = Resolve(parse.GetValue(spec)!, parse.GetValue(variant));
            int timed = parse.GetValue(steps), warm = parse.GetValue(warmup);
            if (timed < 2 || warm < 1) throw new ArgumentException("--steps must be at least 2 and --warmup at least 1.");
            long total = warm + timed;
            // The configuration is a run spec with the flags applied, resolved by the engine like any run (no checkpoints, probe or instruments).
            var runSpec = spec0 with
            {
                Rule = parse.GetValue(rule) ?? spec0.Rule, Graph = parse.GetValue(graph) ?? spec0.Graph, Schedule = parse.GetValue(schedule) ?? spec0.Schedule,
                Batch = parse.GetValue(batch) ?? spec0.Batch, Dataset = parse.GetValue(dataset) ?? "synthetic", Steps = total, Epochs = null,
                AlignEvery = 0, CheckpointEvery = 0, Probe = null, LayerSteps = null, LayerEpochs = null,
            };
            if (runSpec.Graph is not ("local" or "backprop")) throw new ArgumentException($"--graph {runSpec.Graph}: choose local or backprop.");
            if (runSpec.Schedule is "greedy") throw new ArgumentException("--schedule greedy: bench train measures every layer learning; choose pipelined or sequential.");
            if (runSpec.Batch < 2) throw new ArgumentException($"--batch must be at least 2, got {runSpec.Batch}.");
            if (parse.GetValue(rule) is { } r) name = $"{name} ({r})";
            var setup = RunSetup.Resolve(runSpec, specDir, parse.GetValue(data));
            var (network, options, graphKind, scheduleName, batchSize, graphName) = (setup.Network, setup.Options, setup.Graph, setup.Schedule, runSpec.Batch, runSpec.Graph);
            int inFlight = options.Schedule.MaxInFlight;
            using var source = setup.OpenSource();
            var nodes = Simulation.ComputeNodes(network, graphKind);
            var clock = new StepClock(nodes.Count, total);
            string? deviceName = parse.GetValue(device);
            int? threads = LayerThreads.For(graphKind, inFlight);
            RunResult result;
            var backends = new BackendTally(deviceName, threads, computeNodes: nodes.Count);
            double trainingMegabytes;
            IReadOnlyDictionary<string, TimeSpan> busy;
            using (var memory = new ManagedMemoryPeak())
            using (var listener = new NodeBusyTime())
            {
                // Without a data set: one synthetic batch, made before the clock starts and repeated, so that the
                // engine is measured alone (making a fresh random batch sat on the backprop graph's critical path).
                IBatchSource batches = source is not null ? source : new RepeatedBatch(new SyntheticBatches(network.Input, batchSize, options.Seed));
                batches.Batch(0);
                result = Simulation.RunAsync(network, options, backends.Make, batches, observer: clock).GetAwaiter().GetResult();
                trainingMegabytes = memory.MegabytesAboveStart;
                busy = listener.Busy;
            }
            double seconds = clock.Between(warm - 1, total - 1);
            double flopsPerStep = StepFlops.Of(network, graphKind, batchSize);
            double gflops = flopsPerStep * timed / seconds / 1e9;
            // The FMA peak of every core, measured here after the run (the same machine state), on the CPU backend only.
            double? peak = backends.Name == "cpu" ? Plastic.Compute.Cpu.FmaPeak.MeasureGflops(Environment.ProcessorCount, TimeSpan.FromSeconds(1)) : null;
            var byKind = backends.PeakMegabytesByKind(nodes.Count);
            var together = backends.SimultaneousPeakMegabytesByKind;
            double imagesPerSecond = timed * batchSize / seconds;
            string backend = backends.Name!;
            var report = new JsonObject
            {
                ["configuration"] = name, ["network"] = network.Name,
                ["parameters"] = NetworkValidator.Validate(network).Sum(s => s.Weights), // LayerShape.Weights counts biases too
                ["rule"] = network.Rule, ["graph"] = graphName, ["schedule"] = scheduleName,
                ["batch"] = batchSize, ["warmup_steps"] = warm, ["timed_steps"] = timed, ["seconds"] = seconds, ["images_per_s"] = imagesPerSecond,
                ["data"] = source is null ? "synthetic-repeated" : "pipeline", ["backend"] = backend, ["device"] = backends.DeviceDescription, ["threads_per_layer"] = threads?.ToString(CultureInfo.InvariantCulture) ?? "all",
                ["cores"] = Environment.ProcessorCount,
                ["step_gflop_direct"] = flopsPerStep / 1e9, ["achieved_gflops"] = gflops, ["fma_peak_gflops"] = peak, ["share_of_peak"] = peak is > 0 ? gflops / peak : null,
                ["tensor_peak_mb"] = backends.PeakMegabytes(nodes.Count), ["tensor_live_at_end_mb"] = backends.LiveMegabytes(nodes.Count),
                ["tensor_peak_by_kind_mb"] = new JsonObject(byKind.Select(kv => KeyValuePair.Create(KindName(kv.Key), (JsonNode?)kv.Value))),
                ["tensor_simultaneous_peak_mb"] = backends.SimultaneousPeakMegabytes,
                ["tensor_simultaneous_peak_by_kind_mb"] = new JsonObject(together.Select(kv => KeyValuePair.Create(KindName(kv.Key), (JsonNode?)kv.Value))),
                ["device_pool_peak_mb"] = backends.DevicePoolPeakMegabytes,
                ["training_peak_managed_mb"] = trainingMegabytes, ["process_peak_working_set_mb"] = Process.GetCurrentProcess().PeakWorkingSet64 / 1e6,
                ["run_seconds"] = result.Elapsed.TotalSeconds,
                ["utilisation"] = new JsonObject(nodes.Where(busy.ContainsKey).Select(n => KeyValuePair.Create(n, (JsonNode?)new JsonObject
                {
                    ["busy_seconds"] = busy[n].TotalSeconds, ["fraction"] = busy[n].TotalSeconds / result.Elapsed.TotalSeconds,
                }))),
            };
            if (parse.GetValue(json))
            {
                Console.WriteLine(report.ToJsonString(JsonOutput.Options));
                return 0;
            }
            Console.WriteLine($"{name}: {network.Name}, {graphName} graph, {scheduleName}, batch {batchSize} x 2 views, {backend}, {threads?.ToString(CultureInfo.InvariantCulture) ?? "all"} thread(s) per layer, {Environment.ProcessorCount} cores, {(source is null ? "one synthetic batch, repeated (no data making)" : "data pipeline")}");
            Console.WriteLine($"  {imagesPerSecond:F1} images/s over {timed} steps after {warm} warm-up steps ({seconds:F2} s)");
            Console.WriteLine($"  {flopsPerStep / 1e9:F2} GFLOP a step by the direct algorithm (convolutions, linear layers, the losses' matrices), {gflops:F1} GFLOP/s"
                + (peak is > 0 ? $", {100 * gflops / peak:F0} % of the measured FMA peak of {Environment.ProcessorCount} cores ({peak:F0} GFLOP/s)" : ""));
            Console.WriteLine($"  tensor memory: {backends.PeakMegabytes(nodes.Count):F1} MB (sum over the nodes' backends of each one's peak of live tensors; {backends.LiveMegabytes(nodes.Count):F1} MB still live at the end)");
            Console.WriteLine($"  by kind: {string.Join(", ", byKind.Where(kv => kv.Value > 0).Select(kv => $"{KindName(kv.Key)} {kv.Value:F1}"))} MB");
            Console.WriteLine($"  at one moment: {backends.SimultaneousPeakMegabytes:F1} MB (the nodes' tensors live together at their joint peak): "
                + string.Join(", ", together.Where(kv => kv.Value > 0).Select(kv => $"{KindName(kv.Key)} {kv.Value:F1}")) + " MB");
            if (backends.DevicePoolPeakMegabytes is { } pooled)
                Console.WriteLine($"  device memory in Plastic's buffers at most {pooled:F1} MB (tensors and scratch, with freed buffers kept for reuse; {backends.DeviceDescription})");
            Console.WriteLine($"  training peak managed memory {trainingMegabytes:F0} MB above start (tensors, messages, garbage not yet collected); process peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
            Console.WriteLine($"  utilisation (busy time in handled messages / {result.Elapsed.TotalSeconds:F2} s of the whole run):");
            foreach (var n in nodes.Where(busy.ContainsKey))
                Console.WriteLine($"    {n,-8} {busy[n].TotalSeconds,7:F2} s busy  {100 * busy[n].TotalSeconds / result.Elapsed.TotalSeconds,5:F1} %");
            return 0;
        });
        return command;
    }

    /// <summary>A tensor kind as bench train's output names it (snake case).</summary>
    private static string KindName(TensorKind kind) => kind switch
    {
        TensorKind.LossMatrix => "loss_matrix",
        TensorKind.OptimiserState => "optimiser_state",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The configuration to measure as a run spec (a run spec, a comparison's variant, or a network spec or preset with the defaults), the folder its names are relative to, and a name for it.</summary>
    private static (RunSpec Run, string SpecDir, string Name) Resolve(string spec, string? variantName)
    {
        if (RunSpec.IsRunSpec(spec))
            return (RunSpec.From(RunSpec.Read(spec), spec), Path.GetDirectoryName(Path.GetFullPath(spec))!, Path.GetFileNameWithoutExtension(spec));
        if (RunSpec.IsComparison(spec))
        {
            var comparison = ComparisonSpec.Load(spec);
            if (variantName is null) throw new ArgumentException($"{spec} is a comparison: name a variant with --variant ({string.Join(", ", comparison.Variants.Select(v => v.Name))}).");
            var v = comparison.Find(variantName);
            if (v.Untrained) throw new ArgumentException($"{spec}: variant '{v.Name}' is not trained; nothing to measure.");
            return (comparison.Run(v, comparison.Seeds[0]), comparison.Directory, v.Name);
        }
        if (variantName is not null) throw new ArgumentException($"--variant picks a variant of a comparison spec; {spec} is not one.");
        return (new RunSpec { Network = spec }, Directory.GetCurrentDirectory(), NetworkResolver.Resolve(spec).Name);
    }
}
