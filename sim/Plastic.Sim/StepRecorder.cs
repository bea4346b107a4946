using System.Collections.Immutable;
using Plastic.Sim.Checkpoints;
using Plastic.Sim.Actors;

namespace Plastic.Sim;

/// <summary>
/// What the input actor hears at the end of each node's step: the loss and the step of the reference the
/// node's rule used, passed on to the observer; and, at a checkpoint step, the count of layers that have
/// written their file, the checkpoint being complete (and marked so) when all have. Called from the input
/// actor only, so it needs no lock.
/// </summary>
internal sealed class StepRecorder(RunPlan plan, IRunObserver? observer)
{
    private readonly Dictionary<string, double[]> _losses = plan.Reporters.ToDictionary(n => n, _ => Enumerable.Repeat(double.NaN, (int)plan.Options.Steps).ToArray());
    private readonly Dictionary<string, long[]> _referenceSteps = plan.Reporters.ToDictionary(n => n, _ => Enumerable.Repeat(-1L, (int)plan.Options.Steps).ToArray());
    private readonly Dictionary<long, int> _checkpointReports = [];

    public ImmutableDictionary<string, ImmutableArray<double>> Losses => _losses.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray());

    public ImmutableDictionary<string, ImmutableArray<long>> ReferenceSteps => _referenceSteps.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray());

    public void Record(StepDone done)
    {
        _losses[done.Layer][done.Step] = done.Loss;
        _referenceSteps[done.Layer][done.Step] = done.ReferenceStep ?? -1;
        observer?.StepDone(done.Step, done.Layer, done.Loss);
        if (plan.Checkpoints is not { } checkpoints || !checkpoints.IsCheckpoint(done.Step)) return;
        // Every layer writes its file before reporting the step: once all have, the checkpoint is complete.
        int reported = _checkpointReports[done.Step] = _checkpointReports.GetValueOrDefault(done.Step) + 1;
        if (reported < plan.Reporters.Count) return;
        _checkpointReports.Remove(done.Step);
        File.WriteAllText(Path.Combine(LayerCheckpoint.FolderOf(checkpoints.Directory, done.Step), LayerCheckpoint.CompleteMarker),
            LayerCheckpoint.Marker(done.Step, plan.Options.Seed, plan.Spec.Name, plan.Options.Checkpoints.Tag, plan.Reporters));
        LayerCheckpoint.Prune(checkpoints.Directory, plan.Options.Checkpoints.Keep, plan.Options.Checkpoints.Tag);
    }
}
