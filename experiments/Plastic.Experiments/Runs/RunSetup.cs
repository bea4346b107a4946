using Plastic.Compute;
using Plastic.Datasets.Pipeline;
using Plastic.Sim;
using Plastic.Sim.Negatives;
using Plastic.Topology;

namespace Plastic.Experiments.Runs;

/// <summary>
/// A run spec resolved into what training needs: the network with the spec's rule, the graph, the schedule
/// by name, the data (null: synthetic), the step count and the options. The one place a spec becomes
/// <see cref="RunOptions"/>: `plastic run`, every variant and seed of `plastic compare`, `bench train` and
/// scripts get their options here.
/// </summary>
public sealed record RunSetup(RunSpec Run, NetworkSpec Network, string Schedule, LabelledData? Data, long Steps, RunOptions Options)
{
    public GraphKind Graph => Options.Graph;

    /// <summary>Faults to inject besides the spec's, "layer@step,layer@step" (for demos of recovery without editing a spec).</summary>
    public const string FaultsVariable = "PLASTIC_FAULTS";

    /// <summary>
    /// Resolves <paramref name="run"/> (network names and image folders relative to <paramref name="specDir"/>);
    /// checkpoints and resume go to <paramref name="checkpoints"/> when given; <paramref name="log"/> hears of
    /// image folders read or decoded.
    /// </summary>
    public static RunSetup Resolve(RunSpec run, string specDir, string? dataRoot, string? checkpoints = null, bool resume = false, Action<string>? log = null)
    {
        var network = NetworkResolver.Resolve(run.Network, specDir);
        if (run.Rule is { } ruleName) network = network with { Rule = ruleName };
        var graph = run.Graph == "local" ? GraphKind.Local : GraphKind.Backprop;
        string schedule = run.Schedule ?? (graph == GraphKind.Local ? "pipelined" : "sequential");
        var data = run.Dataset.IsSynthetic ? null : LabelledData.Load(run, specDir, dataRoot, network, log);
        // The resolved spec names the split that was read (the default included) and image folders by their full paths.
        if (data is not null) run = data.Spec;
        int images = data?.SelfSupervised.Count ?? 0;
        long steps = run.StepsFor(images);
        var options = new RunOptions(steps, run.Batch, run.Seed, graph)
        {
            Schedule = new ScheduleOptions(InFlight(schedule), LayerSteps: run.LayerStepsFor(images) is { } greedy ? [.. greedy] : default),
            Optimizer = new AdamWSettings(run.Optimizer.LearningRate, WeightDecay: run.Optimizer.WeightDecay),
            Instruments = new InstrumentOptions(run.AlignEvery, run.Probe?.OnlineEvery ?? 0),
            Checkpoints = new CheckpointOptions(run.CheckpointEvery, run.CheckpointEvery > 0 || resume ? checkpoints : null, resume) { Keep = run.CheckpointKeep },
            Negatives = NegativeSampler.Parse(run.Negatives),
            Faults = string.Join(",", (run.Faults ?? []).Concat((Environment.GetEnvironmentVariable(FaultsVariable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))),
        };
        var layerSteps = options.Schedule.LayerSteps;
        if (!layerSteps.IsDefaultOrEmpty && layerSteps.Length != network.Layers.Count)
            throw new ArgumentException($"schedule greedy: {network.Name} has {network.Layers.Count} layers; give one entry per layer in 'layerEpochs' / 'layerSteps', not {layerSteps.Length}.");
        return new RunSetup(run, network, schedule, data, steps, options);
    }

    /// <summary>Steps in flight of a schedule by name: pipelined and greedy keep several, sequential one.</summary>
    public static int InFlight(string schedule) => schedule switch
    {
        "pipelined" or "greedy" => ScheduleOptions.PipelinedInFlight,
        "sequential" => ScheduleOptions.Sequential.MaxInFlight,
        _ => throw new ArgumentException($"schedule '{schedule}': choose pipelined, sequential or greedy."),
    };

    /// <summary>The two-view minibatches of the data set through the augmentation pipeline; null for synthetic data (the simulation makes its own).</summary>
    public DatasetBatches? OpenSource() => Data is null ? null : new DatasetBatches(
        new TwoViewPipeline(Data.SelfSupervised, Data.Augment, Options.BatchSize, Options.Seed, workers: Math.Max(1, Environment.ProcessorCount - 1)), Options.Seed, Options.Negatives);
}
