using System.Globalization;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Plastic.Compute;
using Plastic.Sim;
using Plastic.Sim.Probes;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Experiments.Runs;

/// <summary>
/// What to run: a run spec, where its relative paths start, the data root, the run folder (default
/// runs/&lt;network&gt;/&lt;time&gt;-&lt;graph&gt;), resume, console traces; how progress is shown (default: a
/// line every tenth), the cluster to place nodes on (default: this process) and a rule factory of the
/// caller's (a script's own rule; default: the rule catalogue by name).
/// </summary>
public sealed record RunRequest(RunSpec Run, string SpecDir, string? DataRoot = null, string? Output = null, bool Resume = false, bool ConsoleTraces = false)
{
    /// <summary>Remove the run the output folder holds first (without it, a folder holding a run is refused unless resumed).</summary>
    public bool Overwrite { get; init; }

    public RunProgressFactory? Progress { get; init; }
    public IClusterLauncher? Cluster { get; init; }
    public RuleFactory? Rules { get; init; }
}

/// <summary>
/// What a run gave: its folder, the network and spec as resolved, the options it ran with, the result, the
/// probe (when the spec asked for one), training images/s (start-up included), the peak tensor memory of its
/// compute nodes (NaN over a cluster) and the messages and bytes sent between its compute nodes.
/// </summary>
public sealed record RunOutcome(string Folder, NetworkSpec Network, RunSpec Run, RunOptions Options, RunResult Result, ProbeReport? Probe,
    double ImagesPerSecond, double TensorMegabytes, long Messages, long Bytes);

/// <summary>
/// The one path from a run spec to a run folder, under `plastic run` and every variant and seed of
/// `plastic compare`: data, options, training (in this process or over a cluster), checkpoints, traces,
/// metrics, weights, plots, probes and results. A comparison's variant is a patched run spec, so it gets
/// exactly what `plastic run` on that spec gets.
/// </summary>
public static class RunExecution
{
    /// <summary>Trains the run (and probes it when its spec says so) into its folder; <paramref name="log"/> gets the lines a person reads (default: the console).</summary>
    /// <remarks>Null when a resume finds its run finished: the folder is left as it is.</remarks>
    public static RunOutcome? Execute(RunRequest request, Action<string>? log = null)
    {
        log ??= Console.WriteLine;
        var (run, specDir, dataRoot, output, resuming, consoleTraces) = request;
        if (resuming && output is null) throw new ArgumentException("--resume needs --out <the folder of the run to continue>.");
        if (resuming && request.Overwrite) throw new ArgumentException("--resume continues the run in --out, --overwrite removes it: give one.");
        string folder = output ?? Path.Combine("runs", NetworkResolver.Resolve(run.Network, specDir).Name, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{run.Graph}");
        var setup = RunSetup.Resolve(run, specDir, dataRoot, Path.Combine(folder, "checkpoints"), resuming, log);
        (run, var network, string scheduleName, var data, long stepCount, var options) = setup;
        var graphKind = setup.Graph;
        int inFlight = options.Schedule.MaxInFlight;
        var probe = run.Probe;
        if (request.Cluster is null && run.Placement is not null) throw new ArgumentException("placement: takes effect over a cluster; add --cluster <seed> or --local-cluster <N>.");
        if (request.Cluster is not null && request.Rules is not null) throw new ArgumentException("A rule of the caller's runs in this process only: cluster workers build their rules by name.");
        var placement = request.Cluster?.PlacementFor(run.Placement, network, graphKind);
        if (placement is not null) run = run with { Placement = placement.ToString() };
        var config = RunFolderFiles.Config(network, options, run, scheduleName);
        if (setup.Data?.FolderRecord() is { } folders) config["data_sets"] = folders;
        // Checkpoints carry the run's tag: a resume takes only checkpoints of a run with this very config.
        options = options with { Checkpoints = options.Checkpoints with { Tag = RunFolder.ConfigTag(config) } };
        // Everything that can be refused is refused before the folder is touched.
        var use = resuming ? FolderUse.Resume : request.Overwrite ? FolderUse.Overwrite : FolderUse.New;
        BackendCatalog.Check(run.Device);
        TelemetryEndpoint.Check();
        if (!RunFolder.Admits(folder, use, config, log)) return null;
        Simulation.Validate(network, options, placement, customRules: request.Rules is not null);
        using var claim = RunFolder.Claim(folder, use, log);

        using var source = setup.OpenSource();
        RunFolderFiles.WriteConfig(folder, config);
        var nodes = Simulation.ComputeNodes(network, graphKind);
        long firstStep = resuming && Plastic.Sim.Checkpoints.LayerCheckpoint.LatestComplete(options.Checkpoints.Directory!, options.Checkpoints.Tag) is { } c ? c + 1 : 0;
        if (resuming)
            foreach (var (step, reason) in Plastic.Sim.Checkpoints.LayerCheckpoint.DamagedNewerThan(options.Checkpoints.Directory!, options.Checkpoints.Tag, firstStep - 1))
                log($"warning: the checkpoint of step {step} is damaged ({reason}); resuming from the one before it");
        using var onlineBackend = probe is { OnlineEvery: > 0 } ? BackendCatalog.Create(run.Device, cpuThreads: 1) : null;
        var online = probe is { OnlineEvery: > 0 } && data is not null
            ? new OnlineProbe(network, onlineBackend!, run.Seed, ProbeFeatures.Keep(data.ProbeTrain!, data.Augment, probe.OnlineTrainImages),
                ProbeFeatures.Keep(data.Test!, data.Augment, probe.OnlineTestImages), data.ProbeTrain!.Classes, probe.OnlineEpochs)
            : null;
        var progress = (request.Progress ?? ((n, s, f, b, p) => new LineProgress(n, s, f, b, p, log)))(nodes, stepCount, firstStep, run.Batch, online is null ? null : (step, parameters) =>
        {
            var point = online.Measure(step, parameters);
            log($"  online probe (fast protocol) at step {step}: {point.FinalAccuracy:P2} (final epoch), {point.BestAccuracy:P2} (best)");
        });
        log($"{network.Name} ({run.Graph}, {scheduleName}): {stepCount} steps of {run.Batch} x 2 views of {run.Dataset}{(data is null ? "" : run.Dataset.IsFolder ? $" ({data.SelfSupervised.Count:N0} images)" : $" ({run.SslSplit} split, {data.SelfSupervised.Count:N0} images)")}{(firstStep > 0 ? $", resuming at step {firstStep}" : "")}; run folder {folder}");
        RunResult result;
        var faults = new List<RecoveredFault>();
        int? threads = LayerThreads.For(graphKind, inFlight);
        var backends = new BackendTally(run.Device, threads);
        using var traffic = new LayerTraffic(nodes);
        using (var cluster = placement is null ? null : request.Cluster!.Start(network, graphKind, run.Batch, options.Instruments.AlignEvery > 0 || options.Instruments.ObserveEvery > 0, placement, run.Device, threads, folder))
        using (var history = new RunHistory(folder, firstStep, progress))
        using (var tracing = StartTracing(Path.Combine(folder, RunHistory.TracesFile), consoleTraces))
        using (var metrics = StartMetrics(consoleTraces))
        {
            // The data are open and the cluster (if any) is up: from here on the folder is the run's record.
            claim.TrainingStarts();
            try
            {
                result = progress.Show(() => Recovery.Run(options,
                    attempt => Simulation.RunAsync(network, attempt, backends.Make, source, request.Rules, observer: history, cluster: cluster?.Run).GetAwaiter().GetResult(), faults, log,
                    cluster is null ? null : lost => cluster.Replace(lost, log)));
            }
            catch (Plastic.Sim.Actors.SimulationException e)
            {
                RunFolderFiles.WriteFailure(folder, options, e, faults);
                // A node that could not load what it was given (a checkpoint of another layer) is bad input, not a failed run.
                if (e.Message.Contains(Plastic.Sim.Actors.NodeStart.FailurePrefix, StringComparison.Ordinal)) throw new InvalidDataException(e.Message, e);
                throw;
            }
        }
        RunFolderFiles.WriteMetrics(folder, result);
        result = result with { Losses = RunHistory.WholeRun(folder, result.Losses) };
        WriteTraining(folder, setup, run, result, firstStep, placement, log);
        WriteOnlineProbe(folder, network, run, online);
        var report = ProbeIfAsked(folder, setup, run, result, log);
        RunFolderFiles.WriteResults(folder, result, options, report, online?.Points, faults);
        log($"next: plastic trace {folder}");
        // The tally's first backends are the nodes of this process (the monitor's comes after them); over a
        // cluster the workers' nodes are not counted here, so no figure is given.
        double tensorMegabytes = placement is null ? backends.PeakMegabytes(nodes.Count) : double.NaN;
        return new RunOutcome(folder, network, run, options, result, report, (stepCount - firstStep) * run.Batch / result.Elapsed.TotalSeconds,
            tensorMegabytes, traffic.Messages, traffic.Bytes);
    }


    /// <summary>Metrics, weights, the loss and alignment plots, and the lines that sum up the training.</summary>
    private static void WriteTraining(string folder, RunSetup setup, RunSpec run, RunResult result, long firstStep, Plastic.Sim.Distributed.Placement? placement, Action<string> log)
    {
        var (network, scheduleName, stepCount) = (setup.Network, setup.Schedule, setup.Steps);
        WeightsFile.Write(Path.Combine(folder, WeightsFile.Name), network, result.Parameters);
        RunPlots.Losses(Path.Combine(folder, "loss.png"), $"{network.Name} ({run.Graph}): loss per layer", result.Losses,
            network.Layers.Select(l => l.Name).Append(Plastic.Sim.Protocol.GraphWiring.LossNode));
        if (!result.Alignment.IsEmpty)
            RunPlots.Alignment(Path.Combine(folder, "alignment.png"), $"{network.Name}: alignment with backprop per layer",
                [(network.Rule, LayerAlignmentSummary.Of(result.Alignment.Select(a => a.Layer)))]);
        log($"ran {stepCount - firstStep} steps of {network.Name} ({run.Graph}, {scheduleName}{(placement is null ? "" : $", placement {placement}")}) in {result.Elapsed.TotalSeconds:F2} s " +
            $"({(stepCount - firstStep) * run.Batch / result.Elapsed.TotalSeconds:F1} images/s, start-up included); run folder: {folder}");
        foreach (var (node, losses) in RunFolderFiles.LossesThatExist(result))
        {
            int first = losses.ToList().FindIndex(v => !double.IsNaN(v));
            int last = losses.ToList().FindLastIndex(v => !double.IsNaN(v));
            log($"  {node,-10} loss: step {first} {losses[first]:F4}, step {last} {losses[last]:F4}");
        }
        if (!result.Alignment.IsEmpty)
        {
            RunFolderFiles.WriteAlignment(folder, result);
            log($"  alignment with backprop over {result.Alignment.Length / network.Layers.Count} snapshots (alignment.csv): cosine mean +-95%, error-signal cosine");
            foreach (var s in LayerAlignmentSummary.Of(result.Alignment.Select(a => a.Layer)))
                log($"  {s.Layer,-10} {s.Cosine,8:F4} +-{s.Interval95:F4}   error {s.ErrorCosine:F4}");
        }
    }

    private static void WriteOnlineProbe(string folder, NetworkSpec network, RunSpec run, OnlineProbe? online)
    {
        if (online is not null && online.Points.Count > 0)
        {
            File.WriteAllText(Path.Combine(folder, "online_probe.csv"), "step,protocol,final_accuracy,best_accuracy\n"
                + string.Concat(online.Points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Step},fast,{p.FinalAccuracy:R},{p.BestAccuracy:R}\n"))));
            RunPlots.OnlineProbe(Path.Combine(folder, "online_probe.png"), $"{network.Name} ({run.Graph}): online probe (fast protocol)", [(network.Rule, online.Points)]);
        }
    }

    /// <summary>The linear (and kNN) probe of the trained encoder, when the spec asks for one and there are labelled data.</summary>
    private static ProbeReport? ProbeIfAsked(string folder, RunSetup setup, RunSpec run, RunResult result, Action<string> log)
    {
        var (network, data, probe) = (setup.Network, setup.Data, run.Probe);
        if (probe is not null && data is not null)
        {
            using var backend = BackendCatalog.Create(run.Device);
            var report = Probing.Probe(network, backend, run.Seed, result.Parameters, data.ProbeTrain!, data.Test!, data.Augment,
                probe.Settings(), log);
            JsonOutput.WriteResults(Path.Combine(folder, "probe.json"), Probing.Json(report, run.Dataset.ToString()), RunFolderFiles.ConfigFile);
            return report;
        }
        return null;
    }

    private static TracerProvider StartTracing(string spansPath, bool console)
    {
        var builder = Sdk.CreateTracerProviderBuilder()
            .AddSource(SimTelemetry.Name)
            .AddProcessor(new BatchActivityExportProcessor(new JsonlSpanExporter(spansPath, append: true))); // RunHistory has kept (or removed) what was there
        if (console) builder.AddConsoleExporter();
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TelemetryEndpoint.Variable))) builder.AddOtlpExporter();
        return builder.Build();
    }

    /// <summary>The message and byte counters go to the console with --console-traces and to OTLP when an endpoint is set.</summary>
    private static MeterProvider? StartMetrics(bool console)
    {
        bool otlp = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(TelemetryEndpoint.Variable));
        if (!console && !otlp) return null;
        var builder = Sdk.CreateMeterProviderBuilder().AddMeter(SimTelemetry.Name);
        if (console) builder.AddConsoleExporter();
        if (otlp) builder.AddOtlpExporter();
        return builder.Build();
    }

}
