using System.Collections.Immutable;
using Plastic.Compute;
using Plastic.Sim.Negatives;

namespace Plastic.Sim;

/// <summary>Which actor graph runs a network: layer-local learning, or the global-backprop baseline.</summary>
public enum GraphKind { Local, Backprop }

/// <summary>
/// How to run a network: how many steps of how large a minibatch, the seed and the graph, and one record
/// per concern (schedule, optimiser, instruments, checkpoints). <see cref="RunPlan"/> validates them once.
/// </summary>
public sealed record RunOptions(long Steps, int BatchSize = 32, ulong Seed = 2, GraphKind Graph = GraphKind.Local)
{
    /// <summary>PAPER.md 4.3: AdamW, lr 2e-4 (weight decay 0 for CIFAR-10 and STL-10, 1e-5 for Tiny ImageNet). The one place this default is written.</summary>
    public const float PaperLearningRate = 2e-4f;

    public ScheduleOptions Schedule { get; init; } = new();

    public AdamWSettings Optimizer { get; init; } = new(PaperLearningRate);

    public InstrumentOptions Instruments { get; init; } = new();

    public CheckpointOptions Checkpoints { get; init; } = new();

    /// <summary>How the default (synthetic) batch source pairs negatives; a given source brings its own.</summary>
    public NegativeSampling Negatives { get; init; } = NegativeSampling.Next;

    /// <summary>
    /// Faults to inject, "layer@step" separated by commas (local graph): that layer throws in its update of
    /// that step, as a crashed layer would; for tests and demos of recovery. Empty: none.
    /// </summary>
    public string Faults { get; init; } = "";

    /// <summary>The faults one by one.</summary>
    public IReadOnlyList<string> FaultList => Faults.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The steps at which a layer is to fail (from <see cref="Faults"/>).</summary>
    public IReadOnlySet<long> FaultSteps(string layer) =>
        FaultList.Select(f => f.Split('@')).Where(p => p.Length == 2 && p[0] == layer && long.TryParse(p[1], out _)).Select(p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
}

/// <summary>When each node may work on which step.</summary>
public sealed record ScheduleOptions(
    /// <summary>Steps allowed in flight: 1 = sequential (step t+1 starts when every node has finished t). Backprop needs 1.</summary>
    int MaxInFlight = 1,
    /// <summary>How many steps old a top-down reference may be; 0 waits for the reference of the same step. Above 0 results depend on timing.</summary>
    int Staleness = 0,
    /// <summary>
    /// Greedy (layer-by-layer) training, local graph only: one entry per layer, bottom first, summing to the
    /// run's steps; layer i learns in its own consecutive window of that many steps and only forwards outside
    /// it (RULES-FF-SCFF-CLAPP.md 2.4). Empty: every layer learns at every step.
    /// </summary>
    ImmutableArray<long> LayerSteps = default)
{
    /// <summary>The schedule `plastic run` calls pipelined (and greedy): four steps in flight. The one place this number is written.</summary>
    public const int PipelinedInFlight = 4;

    public static ScheduleOptions Sequential { get; } = new();

    public static ScheduleOptions Pipelined { get; } = new(PipelinedInFlight);

    // An ImmutableArray compares by reference; two schedules with the same windows are the same schedule.
    public bool Equals(ScheduleOptions? other) =>
        other is not null && MaxInFlight == other.MaxInFlight && Staleness == other.Staleness
        && (LayerSteps.IsDefault ? [] : LayerSteps).SequenceEqual(other.LayerSteps.IsDefault ? [] : other.LayerSteps);

    public override int GetHashCode() => HashCode.Combine(MaxInFlight, Staleness, LayerSteps.IsDefault ? 0 : LayerSteps.Length);
}

/// <summary>What watches a run besides its losses (local graph for alignment).</summary>
public sealed record InstrumentOptions(
    /// <summary>Above 0: every that many steps, measure each layer's local update against backprop on a snapshot of the same weights and minibatch (PAPER.md 2.6).</summary>
    int AlignEvery = 0,
    /// <summary>Above 0: every that many steps the run's observer gets every layer's parameters (an online probe); needs an observer.</summary>
    int ObserveEvery = 0);

/// <summary>
/// Where and how often every layer writes its state (local graph), and whether to continue from the latest
/// complete checkpoint. Tag names the run (the engine's hash of its resolved config): each complete
/// checkpoint records it, and a resume takes only checkpoints with its own tag.
/// </summary>
public sealed record CheckpointOptions(int Every = 0, string? Directory = null, bool Resume = false, string? Tag = null)
{
    /// <summary>Above 0: only that many complete checkpoints are kept, the newest; 0 keeps every one.</summary>
    public int Keep { get; init; }
}
