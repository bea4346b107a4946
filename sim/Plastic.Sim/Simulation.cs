using System.Collections.Immutable;
using System.Diagnostics;
using Plastic.Compute;
using Plastic.Rules;
using Plastic.Rules.Catalogue;
using Plastic.Sim.Actors;
using Plastic.Sim.Distributed;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim;

/// <summary>One alignment measurement taken during a run: the step of the snapshot and the layer's numbers.</summary>
public sealed record AlignmentSample(long Step, LayerAlignment Layer);

/// <summary>
/// What a run produced: the loss each reporting node gave per step (NaN for none), the step of the
/// top-down reference each layer's rule used per step (-1 for none), and every layer's final parameters.
/// </summary>
public sealed record RunResult(
    ImmutableDictionary<string, ImmutableArray<double>> Losses,
    ImmutableDictionary<string, ImmutableArray<long>> ReferenceSteps,
    ImmutableDictionary<string, Parameters> Parameters,
    TimeSpan Elapsed)
{
    /// <summary>The in-run alignment measurements (RunOptions.Instruments.AlignEvery), in step order; empty when none were asked for.</summary>
    public ImmutableArray<AlignmentSample> Alignment { get; init; } = [];
}

/// <summary>Makes the local rule of one layer.</summary>
public delegate ILocalRule RuleFactory(NetworkSpec spec, LayerShape shape, IComputeBackend backend, RandomStream init, AdamWSettings optimizer);

/// <summary>
/// Builds the actor graph of a network spec, runs it and collects the result. Each node gets its own
/// backend from the factory; blocks, rules and losses are initialised from (seed, layer), so the same
/// seed gives the same weights bit for bit. Everything is validated before any actor starts.
/// </summary>
public static class Simulation
{
    public static async Task<RunResult> RunAsync(NetworkSpec spec, RunOptions options, Func<IComputeBackend> backendFactory,
        IBatchSource? source = null, RuleFactory? rules = null, IRunObserver? observer = null, ClusterRun? cluster = null)
    {
        _ = Tracing.DeviceTiming.Enabled; // a wrong PLASTIC_SYNC_PHASES is refused before any actor starts, not by the first phase
        var plan = RunPlan.Make(spec, options, cluster?.Placement, customRules: rules is not null, hasObserver: observer is not null);
        source ??= new SyntheticBatches(spec.Input, options.BatchSize, options.Seed, negatives: options.Negatives);
        var recorder = new StepRecorder(plan, observer);
        await using var graph = new RunGraph(plan, cluster);
        var factory = NodeFactory.For(plan, graph.Sends);
        using var layers = DriverLayers.Make(plan, factory, backendFactory, rules ?? DefaultRule);
        try
        {
            await graph.StartNodesAsync(factory, layers, source, recorder, backendFactory, observer).ConfigureAwait(false);
            // The clock starts once every node exists, wherever it was built: this process builds its layers
            // before this point, so a worker building its own must not count either (it did until 2026-12-04,
            // and a run over workers was charged with making their layers while one process was not).
            var clock = Stopwatch.StartNew();
            graph.Connect();
            var elapsed = await graph.FinishedAsync(clock).ConfigureAwait(false);
            return await graph.CollectAsync(recorder, elapsed).ConfigureAwait(false);
        }
        catch (WorkerLostException e)
        {
            graph.LostRole = e.Node;
            throw;
        }
    }

    /// <summary>
    /// Refuses what <see cref="RunAsync"/> would refuse of the options and placement, and a rule name the
    /// catalogue does not know (unless the caller brings its own rules), without starting anything: for
    /// callers that must not write a byte before a run is known to start.
    /// </summary>
    public static void Validate(NetworkSpec spec, RunOptions options, Placement? placement = null, bool customRules = false)
    {
        RunPlan.Make(spec, options, placement, customRules, hasObserver: true);
        if (options.Graph == GraphKind.Local && !customRules)
            foreach (var layer in spec.Layers) RuleCatalogue.Check(spec.RuleOf(layer), layer.Name);
    }

    /// <summary>
    /// The nodes that compute and report every step, in spec order: the layers, and the backprop graph's
    /// loss node. Each makes its backend from the factory in this order, before any instrument does.
    /// </summary>
    public static IReadOnlyList<string> ComputeNodes(NetworkSpec spec, GraphKind graph) =>
        [.. spec.Layers.Select(l => l.Name), .. graph == GraphKind.Backprop ? [GraphWiring.LossNode] : Array.Empty<string>()];

    /// <summary>
    /// D_z of a contrastive loss on this layer: its channels under global pooling, else its loss-pooled
    /// features. Every loss built on a layer (its local rule, the backprop loss, the meter's) sizes B by it.
    /// </summary>
    public static int LossFeatureSize(LayerShape shape, ContrastiveSettings settings) => RuleContexts.Features(shape).ContrastiveSize(settings.GlobalPool);

    /// <summary>
    /// The loss at the top of the backprop graph, named by the top layer's rule: bp-infonce, or
    /// bp-clapp++ (any clapp++ name with its options: the same contrastive loss, at the top only). As in
    /// the released code (PAPER.md 3.3), the top layer's output is pooled to 1 x 1 (its channels are the
    /// loss features, and InfoNCE's projection is C x C); "/grid" keeps the layer's k x k loss grid
    /// instead (Plastic's earlier variant).
    /// </summary>
    public static ITopLoss TopLoss(NetworkSpec spec, LayerShape top, IComputeBackend backend, RandomStream init, AdamWSettings optimizer)
    {
        string name = spec.RuleOf(top.Layer);
        var (rule, parsed) = ContrastiveSettings.Parse(name.StartsWith("bp-", StringComparison.Ordinal) ? name[3..] : name);
        var settings = parsed with { GlobalPool = parsed.GlobalPool || !parsed.KeepTopGrid };
        int features = LossFeatureSize(top, settings);
        return rule switch
        {
            "infonce" => new InfoNceLoss(backend, features, top.Layer.LossPool, init, optimizer, globalPool: settings.GlobalPool),
            ContrastiveLoss.Name or ContrastiveSettings.ClappPreset => new ContrastiveLoss(backend, features, top.Layer.LossPool, init, optimizer, settings: settings),
            _ => throw new ArgumentException($"Layer '{top.Layer.Name}': '{name}' is not a loss the backprop graph knows. Available: bp-clapp++ (or clapp++ with its options), bp-infonce."),
        };
    }

    /// <summary>The rule factory of runs that bring none: the rule catalogue, by the layer's rule name.</summary>
    public static ILocalRule DefaultRule(NetworkSpec spec, LayerShape shape, IComputeBackend backend, RandomStream init, AdamWSettings optimizer) =>
        RuleCatalogue.Create(RuleContexts.For(spec, shape, backend, init, optimizer));
}
