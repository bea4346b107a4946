using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Plastic.Compute;
using Plastic.Sim;
using Plastic.Sim.Probes;
using Plastic.Topology;

namespace Plastic.Experiments.Runs;

/// <summary>The files of a run folder: config.resolved.json, metrics.csv, alignment.csv, results.json.</summary>
internal static class RunFolderFiles
{
    /// <summary>The resolved config every results file of the folder names beside its numbers.</summary>
    public const string ConfigFile = "config.resolved.json";

    /// <summary>The resolved config of a run: its spec as run, the network, and every option that shapes its numbers, with the commit.</summary>
    internal static JsonObject Config(NetworkSpec network, RunOptions options, RunSpec run, string schedule)
    {
        string? device = run.Device;
        var config = new JsonObject
        {
            ["run"] = JsonSerializer.SerializeToNode(run, RunSpec.Json),
            ["spec"] = JsonNode.Parse(NetworkSpecJson.Serialize(network)),
            ["graph"] = run.Graph,
            ["data"] = run.Dataset.ToString(),
            ["steps"] = options.Steps,
            ["batch"] = options.BatchSize,
            ["schedule"] = schedule,
            ["max_in_flight"] = options.Schedule.MaxInFlight,
            ["layer_steps"] = options.Schedule.LayerSteps.IsDefaultOrEmpty ? null : new JsonArray(options.Schedule.LayerSteps.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
            ["seed"] = options.Seed,
            ["negatives"] = options.Negatives.ToString().ToLowerInvariant(),
            ["align_every"] = options.Instruments.AlignEvery,
            ["checkpoint_every"] = options.Checkpoints.Every,
            ["checkpoint_keep"] = options.Checkpoints.Keep,
            ["learning_rate"] = options.Optimizer.LearningRate,
            ["weight_decay"] = options.Optimizer.WeightDecay,
            ["device"] = device ?? Environment.GetEnvironmentVariable(BackendCatalog.DeviceVariable) ?? "auto",
            ["commit"] = Provenance.GitCommit(),
        };
        return config;
    }

    internal static void WriteConfig(string folder, JsonObject config) => File.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJsonString(JsonOutput.Options));

    /// <summary>metrics.csv as RunHistory wrote it while training, put in its final order.</summary>
    internal static void WriteMetrics(string folder, RunResult result) =>
        RunHistory.Finish(folder, [.. result.Losses.Keys.OrderBy(k => k, StringComparer.Ordinal)]);

    internal static void WriteAlignment(string folder, RunResult result)
    {
        var csv = new StringBuilder("step,layer,cosine,norm_ratio,error_cosine\n");
        foreach (var a in result.Alignment)
            csv.Append(CultureInfo.InvariantCulture, $"{a.Step},{a.Layer.Layer},{a.Layer.Cosine:R},{a.Layer.NormRatio:R},{a.Layer.ErrorCosine:R}\n");
        File.WriteAllText(Path.Combine(folder, "alignment.csv"), csv.ToString());
    }

    /// <summary>results.json's "status": the run finished; it stopped on a fault it could not recover from (a resume may continue it); it diverged (a resume would diverge again).</summary>
    public const string FinishedStatus = "finished", StoppedStatus = "stopped", DivergedStatus = "diverged";

    /// <summary>
    /// The results of a run that failed: why, where and when, the last complete checkpoint (what a resume
    /// starts from, kept), and the faults recovered before. The metrics and traces of the steps done stay.
    /// </summary>
    internal static void WriteFailure(string folder, RunOptions options, Plastic.Sim.Actors.SimulationException failure, IReadOnlyList<RecoveredFault> faults)
    {
        bool diverged = failure.Diverged;
        long? checkpoint = options.Checkpoints is { Every: > 0, Directory: { } directory } c ? Plastic.Sim.Checkpoints.LayerCheckpoint.LatestComplete(directory, c.Tag) : null;
        var results = new JsonObject
        {
            ["status"] = diverged ? DivergedStatus : StoppedStatus,
            ["error"] = failure.Message,
            ["node"] = failure.Node,
            ["step"] = failure.Step,
            ["last_complete_checkpoint"] = checkpoint,
        };
        if (faults.Count > 0) results["recovered_faults"] = Faults(faults);
        JsonOutput.WriteResults(Path.Combine(folder, "results.json"), results, ConfigFile);
    }

    private static JsonArray Faults(IReadOnlyList<RecoveredFault> faults) => new([.. faults.Select(f => (JsonNode)new JsonObject
    {
        ["node"] = f.Node, ["step"] = f.Step, ["reason"] = f.Reason, ["replayed_from_step"] = f.ReplayedFrom, ["failed_attempt_seconds"] = f.AttemptSeconds,
        ["recover_seconds"] = f.RecoverSeconds,
    })]);

    internal static void WriteResults(string folder, RunResult result, RunOptions options, ProbeReport? probe, IReadOnlyList<OnlinePoint>? online,
        IReadOnlyList<RecoveredFault>? faults = null)
    {
        var results = new JsonObject
        {
            ["status"] = FinishedStatus,
            ["elapsed_seconds"] = result.Elapsed.TotalSeconds,
            ["steps_per_second"] = options.Steps / result.Elapsed.TotalSeconds,
            ["final_loss"] = new JsonObject(LossesThatExist(result).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value.Last(v => !double.IsNaN(v)))))),
        };
        if (!result.Alignment.IsEmpty)
            results["alignment"] = new JsonArray(LayerAlignmentSummary.Of(result.Alignment.Select(a => a.Layer)).Select(s => (JsonNode)new JsonObject
            {
                ["layer"] = s.Layer, ["measurements"] = s.Measurements, ["cosine"] = s.Cosine,
                ["interval95"] = double.IsNaN(s.Interval95) ? null : s.Interval95, ["norm_ratio"] = s.NormRatio,
                ["error_cosine"] = double.IsNaN(s.ErrorCosine) ? null : s.ErrorCosine,
            }).ToArray());
        if (faults is { Count: > 0 }) results["recovered_faults"] = Faults(faults);
        if (probe is not null) results["probe"] = Probing.Json(probe, null);
        if (online is { Count: > 0 })
        {
            results["online_probe_protocol"] = ProbeProtocol.Fast.Name();
            results["online_probe"] = new JsonArray(online.Select(p => (JsonNode)new JsonObject { ["step"] = p.Step, ["final_accuracy"] = p.FinalAccuracy, ["best_accuracy"] = p.BestAccuracy }).ToArray());
        }
        JsonOutput.WriteResults(Path.Combine(folder, "results.json"), results, ConfigFile);
    }

    /// <summary>Nodes that report a loss (every layer of a local graph; the loss node of a backprop graph), in spec order.</summary>
    internal static IEnumerable<KeyValuePair<string, System.Collections.Immutable.ImmutableArray<double>>> LossesThatExist(RunResult result) =>
        result.Losses.Where(kv => kv.Value.Any(v => !double.IsNaN(v))).OrderBy(kv => kv.Key, StringComparer.Ordinal);
}
