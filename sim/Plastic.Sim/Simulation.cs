using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Plastic.Compute;
using Plastic.Rules;
using Plastic.Sim.Actors;
using Plastic.Sim.Blocks;
using Plastic.Sim.Distributed;
using Plastic.Sim.Negatives;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim;

/// <summary>Which actor graph runs a network: layer-local learning, or the global-backprop baseline.</summary>
public enum GraphKind { Local, Backprop }

/// <summary>How to run a network.</summary>
public sealed record RunOptions(
    long Steps,
    int BatchSize = 32,
    ulong Seed = 2,
    /// <summary>Steps allowed in flight: 1 = sequential (step t+1 starts when every node has finished t). Backprop needs 1.</summary>
    int MaxInFlight = 1,
    /// <summary>PAPER.md 4.3: AdamW, lr 2e-4, weight decay 0.</summary>
    float LearningRate = 2e-4f,
    GraphKind Graph = GraphKind.Local,
    /// <summary>How many steps old a top-down reference may be; 0 (the default) waits for the reference of the same step. Above 0 results depend on timing.</summary>
    int Staleness = 0,
    /// <summary>How the default (synthetic) batch source pairs negatives; a given source brings its own.</summary>
    NegativeSampling Negatives = NegativeSampling.Next,
    /// <summary>
    /// Above 0 (local graph only): every that many steps, measure each layer's local update against
    /// backprop on a snapshot of the same weights and minibatch (PAPER.md 2.6); 0 measures nothing.
    /// </summary>
    int AlignEvery = 0,
    /// <summary>Above 0 (local graph only): every layer writes its state to CheckpointDirectory after every that many steps.</summary>
    int CheckpointEvery = 0,
    string? CheckpointDirectory = null,
    /// <summary>Continue from the latest complete checkpoint in CheckpointDirectory (from the start when there is none).</summary>
    bool Resume = false,
    /// <summary>Above 0: every that many steps the run's observer gets every layer's parameters (an online probe); needs an observer.</summary>
    int ObserveEvery = 0,
    /// <summary>AdamW's decoupled weight decay (PAPER.md 4.3: 0 for CIFAR-10 and STL-10, 1e-5 for Tiny ImageNet).</summary>
    float WeightDecay = 0f,
    /// <summary>
    /// Greedy (layer-by-layer) training, local graph only: one entry per layer, bottom first, summing to
    /// Steps; layer i learns in its own consecutive window of that many steps and only forwards outside it
    /// (RULES-FF-SCFF-CLAPP.md 2.4). Empty (the default): every layer learns at every step.
    /// </summary>
    ImmutableArray<long> LayerSteps = default);

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
    /// <summary>The in-run alignment measurements (RunOptions.AlignEvery), in step order; empty when none were asked for.</summary>
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
    /// <summary>Akka logs warnings and errors only: a run's output is its results, not the actor system's start-up.</summary>
    private const string QuietLogging = "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING\nakka.log-dead-letters-during-shutdown = off\n";

    public static async Task<RunResult> RunAsync(NetworkSpec spec, RunOptions options, Func<IComputeBackend> backendFactory,
        IBatchSource? source = null, RuleFactory? rules = null, IRunObserver? observer = null, ClusterRun? cluster = null)
    {
        var shapes = NetworkValidator.Validate(spec);
        if (options.Graph == GraphKind.Backprop && options.MaxInFlight != 1)
            throw new ArgumentException($"The backprop graph is backward-locked: it runs one step at a time (MaxInFlight 1), not {options.MaxInFlight}.");
        var placement = cluster?.Placement ?? Placement.AllInDriver;
        var reporters = ComputeNodes(spec, options.Graph);
        placement.Validate(spec, options.Graph);
        bool customRules = rules is not null;
        rules ??= DefaultRule;
        if (customRules && reporters.Any(placement.IsRemote))
            throw new ArgumentException("A custom rule factory cannot run on cluster workers (workers build their layers' rules by name); keep every layer in the driver's process.");
        if (options.AlignEvery < 0) throw new ArgumentException($"AlignEvery {options.AlignEvery} must be 0 (off) or a number of steps.");
        if (options.AlignEvery > 0 && options.Graph != GraphKind.Local)
            throw new ArgumentException("Alignment is measured for local runs: the backprop graph's updates are the reference, not something to compare.");
        if (options.ObserveEvery < 0 || (options.ObserveEvery > 0 && observer is null))
            throw new ArgumentException($"ObserveEvery {options.ObserveEvery} must be 0 (off) or a number of steps, with an observer to hand the parameters to.");
        // Layers snapshot at every step either instrument wants; the monitor sorts out which is which.
        int snapshotEvery = options.AlignEvery == 0 ? options.ObserveEvery
            : options.ObserveEvery == 0 ? options.AlignEvery : (int)GreatestCommonDivisor(options.AlignEvery, options.ObserveEvery);
        bool monitored = snapshotEvery > 0;
        if ((options.CheckpointEvery > 0 || options.Resume) && (options.Graph != GraphKind.Local || options.CheckpointDirectory is null))
            throw new ArgumentException("Checkpoints and resume are for local runs and need a checkpoint directory.");
        CheckGreedy(spec, options, placement);
        if (options.CheckpointEvery < 0) throw new ArgumentException($"CheckpointEvery {options.CheckpointEvery} must be 0 (off) or a number of steps.");
        long? resumed = options.Resume ? Checkpoints.LayerCheckpoint.LatestComplete(options.CheckpointDirectory!) : null;
        long firstStep = resumed + 1 ?? 0;
        if (firstStep > options.Steps)
            throw new ArgumentException($"The latest checkpoint is after step {resumed}, beyond the {options.Steps} steps asked for.");
        var plan = options.CheckpointEvery > 0 ? new CheckpointPlan(options.CheckpointDirectory!, options.CheckpointEvery) : null;
        var wiring = options.Graph == GraphKind.Local ? GraphWiring.Local(spec, monitored) : GraphWiring.Backprop(spec, monitored);
        source ??= new SyntheticBatches(spec.Input, options.BatchSize, options.Seed, negatives: options.Negatives);
        var factory = new NodeFactory(spec, shapes, options, wiring, snapshotEvery, firstStep, resumed);
        if (options.Staleness < 0) throw new ArgumentException($"Staleness {options.Staleness} must be 0 or more.");
        var losses = reporters.ToDictionary(n => n, _ => Enumerable.Repeat(double.NaN, (int)options.Steps).ToArray());
        var referenceSteps = reporters.ToDictionary(n => n, _ => Enumerable.Repeat(-1L, (int)options.Steps).ToArray());
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var failedLate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Blocks and rules of the driver's layers are made before the actors, so that a bad rule name
        // fails before anything runs (workers check theirs when asked to host them, also before any step).
        var localLayers = Enumerable.Range(0, shapes.Count).Where(i => !placement.IsRemote(spec.Layers[i].Name)).ToList();
        var backends = new Dictionary<int, IComputeBackend>();
        var blocks = new Dictionary<int, LayerBlock>();
        var layerRules = new Dictionary<int, ILocalRule>();
        try
        {
            foreach (int i in localLayers)
            {
                backends[i] = backendFactory();
                blocks[i] = factory.Block(i, backends[i]);
            }
            if (options.Graph == GraphKind.Local)
                foreach (int i in localLayers)
                {
                    layerRules[i] = factory.Rule(i, backends[i], rules);
                    CheckSignalsAreDeclared(spec.Layers[i].Name, layerRules[i], wiring);
                }
        }
        catch
        {
            foreach (var b in blocks.Values) b.Dispose();
            throw;
        }

        bool ownsSystem = cluster is null;
        var system = cluster?.System ?? ActorSystem.Create("plastic", ConfigurationFactory.ParseString(QuietLogging + SimMessageSerializer.Config + ControlSerializer.Config));
        // Actors of a run in a shared (cluster) system carry the run's id, so runs one after another never clash.
        string runId = ownsSystem ? "" : Guid.NewGuid().ToString("N")[..12];
        string ActorName(string node) => ownsSystem ? node : $"{node}-{runId}";
        var started = new List<IActorRef>();
        IActorRef Start(Props props, string node)
        {
            var actor = system.ActorOf(props, ActorName(node));
            started.Add(actor);
            return actor;
        }
        var hostsUsed = new List<(string Role, IActorRef Host)>();
        string? lostRole = null;
        try
        {
            var clock = Stopwatch.StartNew();
            var checkpointReports = new Dictionary<long, int>();
            Action<StepDone> record = d => // called from the input actor only
            {
                losses[d.Layer][d.Step] = d.Loss;
                referenceSteps[d.Layer][d.Step] = d.ReferenceStep ?? -1;
                observer?.StepDone(d.Step, d.Layer, d.Loss);
                if (plan is null || !plan.IsCheckpoint(d.Step)) return;
                // Every layer writes its file before reporting the step: once all have, the checkpoint is complete.
                int reported = checkpointReports[d.Step] = checkpointReports.GetValueOrDefault(d.Step) + 1;
                if (reported < reporters.Count) return;
                checkpointReports.Remove(d.Step);
                File.WriteAllText(Path.Combine(Checkpoints.LayerCheckpoint.FolderOf(plan.Directory, d.Step), Checkpoints.LayerCheckpoint.CompleteMarker),
                    $"{{\"step\": {d.Step}, \"seed\": {options.Seed}, \"network\": \"{spec.Name}\"}}\n");
            };
            var input = Start(Props.Create(() => new InputActor(source, wiring, reporters.Count, options.Steps, options.MaxInFlight, record, finished, firstStep,
                e => failedLate.TrySetException(e))), GraphWiring.InputNode);
            var nodes = ImmutableDictionary.CreateBuilder<string, IActorRef>();
            nodes[GraphWiring.InputNode] = input;
            foreach (int i in localLayers)
            {
                string name = spec.Layers[i].Name;
                nodes[name] = Start(factory.LayerProps(i, backends[i], blocks[i], layerRules.GetValueOrDefault(i), input), name);
            }
            blocks.Clear(); // owned by their actors now
            if (options.Graph == GraphKind.Backprop && !placement.IsRemote(GraphWiring.LossNode))
                nodes[GraphWiring.LossNode] = Start(factory.LossProps(backendFactory(), input), GraphWiring.LossNode);
            var alignment = new List<AlignmentSample>();
            if (monitored)
            {
                // The monitor's meter builds its rules like the run's (same seed), then loads each snapshot.
                var meter = options.AlignEvery > 0 ? new AlignmentMeter(spec, backendFactory(), options.Seed) : null;
                var layerNames = spec.Layers.Select(l => l.Name).ToList();
                Action<long, IReadOnlyList<LayerAlignment>> onMeasured = (step, layers) => { lock (alignment) alignment.AddRange(layers.Select(l => new AlignmentSample(step, l))); };
                var monitor = new MonitorSetup(layerNames, source, meter, options.AlignEvery, onMeasured, observer, options.ObserveEvery);
                nodes[GraphWiring.MonitorNode] = Start(Props.Create(() => new MonitorActor(monitor, wiring, input)), GraphWiring.MonitorNode);
            }
            if (cluster is not null && placement.WorkerRoles.Count > 0)
            {
                var recipe = new NodeRecipe(NetworkSpecJson.Serialize(spec), options.Graph, options.Seed, options.LearningRate, options.WeightDecay, options.Staleness,
                    snapshotEvery, monitored, firstStep, options.CheckpointDirectory is null ? null : Path.GetFullPath(options.CheckpointDirectory), options.CheckpointEvery,
                    resumed, cluster.Device, cluster.Threads);
                var hosted = await RemoteHosting.HostAsync(cluster, recipe, reporters, runId, input, hostsUsed).ConfigureAwait(false);
                foreach (var (name, actor) in hosted) nodes[name] = actor;
                var watched = hostsUsed.ToImmutableDictionary(h => h.Host.Path.Address, h => (h.Role, placement.NodesOf(h.Role).Where(reporters.Contains).ToImmutableArray()));
                started.Add(system.ActorOf(Props.Create(() => new WorkerWatchActor(watched, input)), $"watch-{runId}"));
            }
            var connect = new Connect(nodes.ToImmutable());
            // The input node last: it starts sending data as soon as it is connected, and every other node
            // must have its Connect in its mailbox before the first message reaches it.
            foreach (var node in connect.Nodes.Where(n => n.Key != GraphWiring.InputNode).Select(n => n.Value)) node.Tell(connect);
            connect.Nodes[GraphWiring.InputNode].Tell(connect);

            await finished.Task.ConfigureAwait(false);
            clock.Stop();
            var parameters = ImmutableDictionary.CreateBuilder<string, Parameters>();
            foreach (var layer in spec.Layers)
                parameters[layer.Name] = await connect.Nodes[layer.Name].Ask<Parameters>(new GetParameters(), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            if (monitored)
            {
                // The monitor may lag behind the layers (each measurement is a forward and a backward pass of
                // the whole net); its mailbox is in order, so the answer comes after the last snapshot.
                var flush = connect.Nodes[GraphWiring.MonitorNode].Ask<MonitorActor.Flushed>(new MonitorActor.Flush(), TimeSpan.FromMinutes(10));
                // A monitor that failed never answers: its failure ends the wait, with its reason.
                await Task.WhenAny(flush, failedLate.Task).ConfigureAwait(false);
                if (failedLate.Task.IsFaulted) await failedLate.Task.ConfigureAwait(false);
                var flushed = await flush.ConfigureAwait(false);
                if (flushed.IncompleteSteps > 0)
                    throw new InvalidOperationException($"The alignment monitor is missing snapshots for {flushed.IncompleteSteps} steps.");
            }
            return new RunResult(losses.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray()),
                referenceSteps.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray()), parameters.ToImmutable(), clock.Elapsed)
            {
                Alignment = [.. alignment.OrderBy(a => a.Step)],
            };
        }
        catch (WorkerLostException e)
        {
            lostRole = e.Node;
            throw;
        }
        finally
        {
            foreach (var b in blocks.Values) b.Dispose();
            if (ownsSystem)
            {
                await system.Terminate().ConfigureAwait(false);
            }
            else
            {
                // The watch goes first, so that stopping the run's nodes is not taken for a lost worker.
                foreach (var actor in started.AsEnumerable().Reverse()) system.Stop(actor);
                // Each live host answers once its nodes are stopped and their spans written; a lost one is not asked.
                var stopping = hostsUsed.Where(h => h.Role != lostRole)
                    .Select(h => h.Host.Ask<NodesStopped>(new StopNodes(runId), TimeSpan.FromSeconds(10)));
                try { await Task.WhenAll(stopping).ConfigureAwait(false); }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException) { /* a host that went away meanwhile: nothing to flush */ }
            }
        }
    }

    /// <summary>
    /// The nodes that compute and report every step, in spec order: the layers, and the backprop graph's
    /// loss node. Each makes its backend from the factory in this order, before any instrument does.
    /// </summary>
    public static IReadOnlyList<string> ComputeNodes(NetworkSpec spec, GraphKind graph) =>
        [.. spec.Layers.Select(l => l.Name), .. graph == GraphKind.Backprop ? [GraphWiring.LossNode] : Array.Empty<string>()];

    private static long GreatestCommonDivisor(long a, long b) => b == 0 ? a : GreatestCommonDivisor(b, a % b);

    /// <summary>Greedy windows: local graph, one per layer, summing to the run's steps, every layer in the driver's process.</summary>
    private static void CheckGreedy(NetworkSpec spec, RunOptions options, Placement placement)
    {
        if (options.LayerSteps.IsDefaultOrEmpty) return;
        if (options.Graph != GraphKind.Local)
            throw new ArgumentException("Greedy (layer-by-layer) training is for the local graph: the backprop graph trains every layer from one loss.");
        if (options.LayerSteps.Length != spec.Layers.Count)
            throw new ArgumentException($"Greedy training needs one step count per layer: {spec.Name} has {spec.Layers.Count} layers, {options.LayerSteps.Length} counts were given.");
        if (options.LayerSteps.Any(s => s < 1))
            throw new ArgumentException($"Greedy training gives every layer at least 1 step; got {string.Join(", ", options.LayerSteps)}.");
        if (options.LayerSteps.Sum() != options.Steps)
            throw new ArgumentException($"The greedy windows ({string.Join(" + ", options.LayerSteps)} = {options.LayerSteps.Sum()} steps) must add up to the run's {options.Steps} steps.");
        if (spec.Layers.Any(l => placement.IsRemote(l.Name)))
            throw new ArgumentException("Greedy training runs in one process for now: cluster workers are not told the learning windows.");
    }

    /// <summary>
    /// D_z of a contrastive loss on this layer: its channels under global pooling, else its loss-pooled
    /// features. Every loss built on a layer (its local rule, the backprop loss, the meter's) sizes B by it.
    /// </summary>
    public static int LossFeatureSize(LayerShape shape, ContrastiveSettings settings) =>
        settings.GlobalPool && shape.Layer.Kind == LayerKind.Conv ? shape.Output.Channels : shape.LossFeatures.Size;

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

    /// <summary>
    /// A rule may only ask for signals that the graph declares for its layer: asking for a top-down
    /// reference without a direct-feedback edge is a request for non-local information, refused
    /// before the run starts.
    /// </summary>
    private static void CheckSignalsAreDeclared(string layer, ILocalRule rule, Wiring wiring)
    {
        if (rule.Needs.HasFlag(RuleSignals.TopDownReference) && !wiring.Edges.Any(e => e.To == layer && e.Allows.Contains(MessageKind.TopDownReference)))
            throw new LocalityViolationException($"Layer '{layer}': rule '{rule.Name}' needs a top-down reference, but no direct-feedback edge to '{layer}' is declared; declare one in the spec's feedback edges.");
        if (rule.Needs.HasFlag(RuleSignals.Pairing) && !wiring.Allows(GraphWiring.InputNode, layer, MessageKind.Pairing))
            throw new LocalityViolationException($"Layer '{layer}': rule '{rule.Name}' needs the pairing, which this graph does not send to it.");
    }

    /// <summary>
    /// The rules local runs know by name. The direct-feedback variants need a feedback edge into the
    /// layer; the layer that sends the references (the top) has none and learns with the lateral rule,
    /// as in the paper.
    /// </summary>
    public static ILocalRule DefaultRule(NetworkSpec spec, LayerShape shape, IComputeBackend backend, RandomStream init, AdamWSettings optimizer)
    {
        string ruleName = spec.RuleOf(shape.Layer);
        if (GoodnessSettings.IsGoodnessRule(ruleName))
        {
            var (pairs, goodness) = GoodnessSettings.Parse(ruleName);
            return new GoodnessRule(backend, pairs, goodness);
        }
        var (rule, settings) = ContrastiveSettings.Parse(ruleName);
        if (rule.StartsWith("bp-", StringComparison.Ordinal))
            throw new ArgumentException($"Layer '{shape.Layer.Name}': '{rule}' is a backprop baseline, a loss at the top of the backprop graph; run it with the backprop graph (plastic run --graph backprop).");
        if (settings.KeepTopGrid)
            throw new ArgumentException($"Layer '{shape.Layer.Name}': rule '{spec.RuleOf(shape.Layer)}': 'grid' is an option of the backprop baselines (bp-clapp++/grid, bp-infonce/grid); local rules always score their layer's loss grid.");
        var feedback = spec.Feedback.Where(e => e.To == shape.Layer.Name).ToList();
        int features = LossFeatureSize(shape, settings);
        int? lossPool = shape.Layer.LossPool;
        if (settings.GlobalPool && rule is DirectFeedbackRule.RuleName or BothRule.RuleName && feedback.Count > 0)
            throw new ArgumentException($"Layer '{shape.Layer.Name}': rule '{spec.RuleOf(shape.Layer)}': global pooling (gap) applies to the lateral rules (clapp, clapp++); a direct-feedback reference is the top layer's loss features as sent.");
        if (feedback.Count > 1)
            throw new ArgumentException($"Layer '{shape.Layer.Name}': {feedback.Count} feedback edges arrive; the rules take one top-down reference.");
        int ReferenceFeatures()
        {
            var source = spec.Layers.Select((l, i) => (l, i)).Single(x => x.l.Name == feedback[0].From).i;
            return NetworkValidator.Validate(spec)[source].LossFeatures.Size;
        }
        bool sends = spec.Feedback.Any(e => e.From == shape.Layer.Name);
        return rule switch
        {
            ContrastiveLoss.Name or ContrastiveSettings.ClappPreset or ContrastiveSettings.PhyllPreset => new LateralRule(backend, features, lossPool, init, optimizer, settings),
            DirectFeedbackRule.RuleName or BothRule.RuleName when feedback.Count == 0 && !sends =>
                throw new ArgumentException($"Layer '{shape.Layer.Name}': rule '{rule}' needs a direct-feedback edge into this layer (or this layer must be the one that sends the references)."),
            DirectFeedbackRule.RuleName when feedback.Count == 0 => new LateralRule(backend, features, lossPool, init, optimizer, settings),
            DirectFeedbackRule.RuleName => new DirectFeedbackRule(backend, features, ReferenceFeatures(), lossPool, init, optimizer, settings),
            // The sending layer's second loss is lateral too (the released code's feedback index of the top is the top).
            BothRule.RuleName => new BothRule(backend, features, feedback.Count == 0 ? null : ReferenceFeatures(), lossPool, init, optimizer, settings),
            _ => throw new ArgumentException($"Layer '{shape.Layer.Name}': rule '{rule}' is not available for local runs. Available: clapp, clapp++, clapp++dfb, clapp++both, phyll, ff, scff (contrastive options /hinge, /softplus, /linear, /trainable-b, /fixed-b, /identity-b, /gap, /patches, /either, /both-terms, /b-l2=, phyll's /theta=; goodness options /theta=, /th1=, /th2=, /lambda=)."),
        };
    }
}
