using Plastic.Sim.Actors;
using Plastic.Sim.Distributed;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim;

/// <summary>
/// A run's options validated once against its network and placement, with what follows from them: the
/// layer shapes, the nodes that report every step, the wiring, how often layers snapshot (for either
/// instrument), the first step (after a resumed checkpoint) and the checkpoint plan. Nothing starts before
/// a plan is made, so every refusal comes before the first step.
/// </summary>
internal sealed record RunPlan(NetworkSpec Spec, RunOptions Options, IReadOnlyList<LayerShape> Shapes, Placement Placement,
    IReadOnlyList<string> Reporters, Wiring Wiring, int SnapshotEvery, long FirstStep, long? ResumedStep, CheckpointPlan? Checkpoints)
{
    public bool Monitored => SnapshotEvery > 0;

    /// <summary>The driver's layers (by index): every layer not placed on a worker.</summary>
    public IEnumerable<int> DriverLayers => Enumerable.Range(0, Shapes.Count).Where(i => !Placement.IsRemote(Spec.Layers[i].Name));

    public static RunPlan Make(NetworkSpec spec, RunOptions options, Placement? placement, bool customRules, bool hasObserver)
    {
        var shapes = NetworkValidator.Validate(spec);
        placement ??= Placement.AllInDriver;
        placement.Validate(spec, options.Graph);
        var reporters = Simulation.ComputeNodes(spec, options.Graph);
        if (customRules && reporters.Any(placement.IsRemote))
            throw new ArgumentException("A custom rule factory cannot run on cluster workers (workers build their layers' rules by name); keep every layer in the driver's process.");
        CheckSchedule(spec, options, placement);
        int snapshotEvery = SnapshotInterval(options, hasObserver);
        var (firstStep, resumed) = CheckCheckpoints(options);
        var wiring = options.Graph == GraphKind.Local ? GraphWiring.Local(spec, snapshotEvery > 0) : GraphWiring.Backprop(spec, snapshotEvery > 0);
        var checkpoints = options.Checkpoints.Every > 0 ? new CheckpointPlan(options.Checkpoints.Directory!, options.Checkpoints.Every) : null;
        return new RunPlan(spec, options, shapes, placement, reporters, wiring, snapshotEvery, firstStep, resumed, checkpoints);
    }

    /// <summary>Layers snapshot at every step either instrument wants; the monitor sorts out which is which.</summary>
    private static int SnapshotInterval(RunOptions options, bool hasObserver)
    {
        var (alignEvery, observeEvery) = options.Instruments;
        if (alignEvery < 0) throw new ArgumentException($"AlignEvery {alignEvery} must be 0 (off) or a number of steps.");
        if (alignEvery > 0 && options.Graph != GraphKind.Local)
            throw new ArgumentException("Alignment is measured for local runs: the backprop graph's updates are the reference, not something to compare.");
        if (observeEvery < 0 || (observeEvery > 0 && !hasObserver))
            throw new ArgumentException($"ObserveEvery {observeEvery} must be 0 (off) or a number of steps, with an observer to hand the parameters to.");
        return alignEvery == 0 ? observeEvery : observeEvery == 0 ? alignEvery : (int)GreatestCommonDivisor(alignEvery, observeEvery);
    }

    private static (long FirstStep, long? Resumed) CheckCheckpoints(RunOptions options)
    {
        var (every, directory, resume, tag) = options.Checkpoints;
        if ((every > 0 || resume) && directory is null)
            throw new ArgumentException("Checkpoints and resume need a checkpoint directory.");
        if (every < 0) throw new ArgumentException($"CheckpointEvery {every} must be 0 (off) or a number of steps.");
        long? resumed = resume ? Plastic.Sim.Checkpoints.LayerCheckpoint.LatestComplete(directory!, tag) : null;
        if (resume && resumed is null)
            throw new ArgumentException(Plastic.Sim.Checkpoints.LayerCheckpoint.DamagedNewerThan(directory!, tag, null) is [var (step, reason), ..]
                ? $"Resume: every complete checkpoint in {directory} is damaged (step {step}: {reason}); nothing to continue from."
                : $"Resume: {directory} holds no complete checkpoint{(tag is null ? "" : " of this run")}; nothing to continue from.");
        long firstStep = resumed + 1 ?? 0;
        if (firstStep > options.Steps)
            throw new ArgumentException($"The latest checkpoint is after step {resumed}, beyond the {options.Steps} steps asked for.");
        return (firstStep, resumed);
    }

    private static void CheckSchedule(NetworkSpec spec, RunOptions options, Placement placement)
    {
        var schedule = options.Schedule;
        if (schedule.MaxInFlight < 1) throw new ArgumentException($"MaxInFlight {schedule.MaxInFlight} must be 1 or more.");
        if (options.Graph == GraphKind.Backprop && schedule.MaxInFlight != 1)
            throw new ArgumentException($"The backprop graph is backward-locked: it runs one step at a time (MaxInFlight 1), not {schedule.MaxInFlight}.");
        if (schedule.Staleness < 0) throw new ArgumentException($"Staleness {schedule.Staleness} must be 0 or more.");
        CheckGreedy(spec, options, placement);
        foreach (var fault in options.FaultList)
            if (fault.Split('@') is not [var layer, var at] || !long.TryParse(at, out long step) || step < 0 || step >= options.Steps || spec.Layers.All(l => l.Name != layer))
                throw new ArgumentException($"faults '{fault}' (the spec's 'faults' or $PLASTIC_FAULTS): give layer@step, a layer of {spec.Name} ({string.Join(", ", spec.Layers.Select(l => l.Name))}) and a step from 0 to {options.Steps - 1}.");
    }

    /// <summary>Greedy windows: local graph, one per layer, summing to the run's steps, every layer in the driver's process.</summary>
    private static void CheckGreedy(NetworkSpec spec, RunOptions options, Placement placement)
    {
        var layerSteps = options.Schedule.LayerSteps;
        if (layerSteps.IsDefaultOrEmpty) return;
        if (options.Graph != GraphKind.Local)
            throw new ArgumentException("Greedy (layer-by-layer) training is for the local graph: the backprop graph trains every layer from one loss.");
        if (layerSteps.Length != spec.Layers.Count)
            throw new ArgumentException($"Greedy training needs one step count per layer: {spec.Name} has {spec.Layers.Count} layers, {layerSteps.Length} counts were given.");
        if (layerSteps.Any(s => s < 1))
            throw new ArgumentException($"Greedy training gives every layer at least 1 step; got {string.Join(", ", layerSteps)}.");
        if (layerSteps.Sum() != options.Steps)
            throw new ArgumentException($"The greedy windows ({string.Join(" + ", layerSteps)} = {layerSteps.Sum()} steps) must add up to the run's {options.Steps} steps.");
        if (spec.Layers.Any(l => placement.IsRemote(l.Name)))
            throw new ArgumentException("Greedy training runs in one process for now: cluster workers are not told the learning windows.");
    }

    private static long GreatestCommonDivisor(long a, long b) => b == 0 ? a : GreatestCommonDivisor(b, a % b);
}
