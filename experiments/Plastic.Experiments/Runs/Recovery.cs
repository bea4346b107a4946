using System.Diagnostics;
using Plastic.Sim;
using Plastic.Sim.Actors;
using Plastic.Sim.Checkpoints;
using Plastic.Sim.Tracing;

namespace Plastic.Experiments.Runs;

/// <summary>
/// A fault a run recovered from: the node (or lost worker's role) and step that failed, why, the step every
/// node rewound to, the seconds the failed attempt ran and the seconds it took to get going again (a lost
/// worker's replacement joining; 0 for a layer fault, whose replay starts at once).
/// </summary>
public sealed record RecoveredFault(string Node, long Step, string Reason, long ReplayedFrom, double AttemptSeconds, double RecoverSeconds = 0);

/// <summary>
/// Runs training and, when a node fails (a layer throws, a cluster worker is lost) and the run has a
/// complete checkpoint, rewinds every node to it and replays from the step after it: the same minibatches,
/// each once, so the weights end as an uninterrupted run's, bit for bit. A fault injected at a step fires
/// once. A lost worker is first replaced (<paramref name="replaceWorker"/>: a new local worker, or a live
/// member of its role); without a way to replace it the run stops. A divergence is not recovered (a replay
/// would diverge again), nor more than <see cref="MaxRecoveries"/> faults.
/// </summary>
internal static class Recovery
{
    public const int MaxRecoveries = 3;

    /// <param name="replaceWorker">Finds a worker for a lost one's role and gives the cluster to run on (throws when none comes); null: a lost worker ends the run.</param>
    /// <remarks>The result's time is the whole run's: the failed attempts and the recoveries are in it.</remarks>
    public static RunResult Run(RunOptions options, Func<RunOptions, RunResult> attempt, List<RecoveredFault> faults, Action<string> log,
        Action<WorkerLostException>? replaceWorker = null)
    {
        var lost = TimeSpan.Zero;
        while (true)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var result = attempt(options);
                return result with { Elapsed = result.Elapsed + lost };
            }
            catch (SimulationException e) when (Recoverable(e, options, faults.Count, replaceWorker is not null) is { } checkpoint)
            {
                double attemptSeconds = clock.Elapsed.TotalSeconds;
                log($"fault: {e.Message.TrimEnd('.')}; every node rewinds to the checkpoint of step {checkpoint} and the run replays from step {checkpoint + 1} " +
                    $"(recovery {faults.Count + 1} of at most {MaxRecoveries}; the failed attempt ran {attemptSeconds:F1} s)");
                var replacing = Stopwatch.StartNew();
                if (e is WorkerLostException worker) replaceWorker!(worker);
                double recoverSeconds = replacing.Elapsed.TotalSeconds;
                if (e is WorkerLostException) log($"recovered: a worker for '{e.Node}' took over its nodes {recoverSeconds:F1} s after the loss was seen");
                lost += clock.Elapsed;
                var fault = new RecoveredFault(e.Node, e.Step, e.Message, checkpoint + 1, attemptSeconds, recoverSeconds);
                faults.Add(fault);
                Trace(fault);
                // An injected fault fires once: the replay runs without it.
                var remaining = options.FaultList.Where(f => f != $"{e.Node}@{e.Step}");
                options = options with { Checkpoints = options.Checkpoints with { Resume = true }, Faults = string.Join(",", remaining) };
            }
            catch (SimulationException e)
            {
                NotRecovered(e, options, log);
                throw;
            }
        }
    }

    /// <summary>Says why a fault that could have been recovered was not (the run's error follows).</summary>
    private static void NotRecovered(SimulationException e, RunOptions options, Action<string> log)
    {
        if (options.Checkpoints.Every == 0 && !e.Diverged)
            log("not recovered: the run writes no checkpoints to rewind to (--checkpoint-every N, or the spec's checkpointEvery, makes them)");
    }

    /// <summary>The checkpoint to rewind to, or null when this fault ends the run.</summary>
    private static long? Recoverable(SimulationException e, RunOptions options, int recovered, bool canReplaceWorkers) =>
        (e is WorkerLostException && !canReplaceWorkers) || recovered >= MaxRecoveries || e.Diverged
        || e.Message.Contains(NodeStart.FailurePrefix, StringComparison.Ordinal)
        || options.Checkpoints is not { Every: > 0, Directory: { } directory } checkpoints
            ? null
            : LayerCheckpoint.LatestComplete(directory, checkpoints.Tag);

    /// <summary>The fault as a span of the run's traces, beside the messages of the attempt it ended.</summary>
    private static void Trace(RecoveredFault fault)
    {
        using var span = SimTelemetry.Source.StartActivity(SimTelemetry.FaultSpan, ActivityKind.Internal, default(ActivityContext));
        span?.SetTag(SimTelemetry.NodeTag, fault.Node);
        span?.SetTag(SimTelemetry.StepTag, fault.Step);
        span?.SetTag(SimTelemetry.ReplayedFromTag, fault.ReplayedFrom);
        span?.SetTag(SimTelemetry.AttemptSecondsTag, fault.AttemptSeconds);
        span?.SetTag(SimTelemetry.RecoverSecondsTag, fault.RecoverSeconds);
        span?.SetTag(SimTelemetry.ReasonTag, fault.Reason);
    }
}
