using System.Diagnostics;
using Plastic.Sim;
using Plastic.Sim.Actors;
using Plastic.Sim.Checkpoints;

namespace Plastic.Experiments.Runs;

/// <summary>A fault a run recovered from: the node and step that failed, why, the step every node rewound to, and the time the failed attempt ran.</summary>
public sealed record RecoveredFault(string Node, long Step, string Reason, long ReplayedFrom, double AttemptSeconds);

/// <summary>
/// Runs training and, when a node fails (a layer throws, a cluster node fails) and the run has a complete
/// checkpoint, rewinds every node to it and replays from the step after it: the same minibatches, each
/// once, so the weights end as an uninterrupted run's, bit for bit. A fault injected at a step fires once.
/// A divergence is not recovered (a replay would diverge again), nor a lost worker, nor more than
/// <see cref="MaxRecoveries"/> faults.
/// </summary>
internal static class Recovery
{
    public const int MaxRecoveries = 3;

    public static RunResult Run(RunOptions options, Func<RunOptions, RunResult> attempt, List<RecoveredFault> faults, Action<string> log)
    {
        while (true)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                return attempt(options);
            }
            catch (SimulationException e) when (Recoverable(e, options, faults.Count) is { } checkpoint)
            {
                faults.Add(new RecoveredFault(e.Node, e.Step, e.Message, checkpoint + 1, clock.Elapsed.TotalSeconds));
                log($"fault: {e.Message}; every node rewinds to the checkpoint of step {checkpoint} and the run replays from step {checkpoint + 1} " +
                    $"(recovery {faults.Count} of at most {MaxRecoveries}; the failed attempt ran {clock.Elapsed.TotalSeconds:F1} s)");
                // An injected fault fires once: the replay runs without it.
                var remaining = options.FaultList.Where(f => f != $"{e.Node}@{e.Step}");
                options = options with { Checkpoints = options.Checkpoints with { Resume = true }, Faults = string.Join(",", remaining) };
            }
        }
    }

    /// <summary>The checkpoint to rewind to, or null when this fault ends the run.</summary>
    private static long? Recoverable(SimulationException e, RunOptions options, int recovered) =>
        e is WorkerLostException || recovered >= MaxRecoveries || e.Message.Contains("diverged: ", StringComparison.Ordinal)
        || options.Checkpoints is not { Every: > 0, Directory: { } directory } checkpoints
            ? null
            : LayerCheckpoint.LatestComplete(directory, checkpoints.Tag);
}
