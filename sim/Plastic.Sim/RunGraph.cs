using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Plastic.Compute;
using Plastic.Sim.Actors;
using Plastic.Sim.Distributed;
using Plastic.Sim.Protocol;

namespace Plastic.Sim;

/// <summary>
/// One run's actors, from start to stop: the input, the driver's layers (and loss), the monitor, the
/// nodes hosted on cluster workers and the watch on those workers. Disposing stops them all: the actor
/// system when the run owns it, else this run's actors and its workers' nodes.
/// </summary>
internal sealed class RunGraph : IAsyncDisposable
{
    /// <summary>Akka logs warnings and errors only: a run's output is its results, not the actor system's start-up.</summary>
    private const string QuietLogging = "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING\nakka.log-dead-letters-during-shutdown = off\n";

    /// <summary>How long a layer may take to answer for its parameters once the run is over (a copy of its weights; a remote one crosses the network).</summary>
    private static readonly TimeSpan ParametersTimeout = TimeSpan.FromSeconds(30);

    private readonly RunPlan _plan;
    private readonly ClusterRun? _cluster;
    private readonly ActorSystem _system;
    private readonly bool _ownsSystem;
    // Actors of a run in a shared (cluster) system carry the run's id, so runs one after another never clash.
    private readonly string _runId;
    private readonly List<IActorRef> _started = [];
    private readonly List<(string Role, IActorRef Host)> _hosts = [];
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _failedLate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<AlignmentSample> _alignment = [];
    private ImmutableDictionary<string, IActorRef> _nodes = ImmutableDictionary<string, IActorRef>.Empty;
    private ImmutableDictionary<string, IActorRef> _posts = ImmutableDictionary<string, IActorRef>.Empty;

    public RunGraph(RunPlan plan, ClusterRun? cluster)
    {
        _plan = plan;
        _cluster = cluster;
        _ownsSystem = cluster is null;
        _system = cluster?.System ?? ActorSystem.Create("plastic", ConfigurationFactory.ParseString(QuietLogging + SimMessageSerializer.Config + ControlSerializer.Config));
        _runId = _ownsSystem ? "" : Guid.NewGuid().ToString("N")[..12];
    }

    /// <summary>How the driver's nodes may send: over a cluster, under the remote frame limit.</summary>
    public ISendPolicy Sends => RemoteFrames.PolicyOf(_system);

    /// <summary>The worker role that was lost, if the run ended that way: it is not asked to stop its nodes.</summary>
    public string? LostRole { get; set; }

    /// <summary>Starts every node, in this process and on the workers; nothing is sent until <see cref="Connect"/>.</summary>
    public async Task StartNodesAsync(NodeFactory factory, DriverLayers layers, IBatchSource source, StepRecorder recorder,
        Func<IComputeBackend> backendFactory, IRunObserver? observer)
    {
        var input = StartInput(source, recorder);
        var nodes = ImmutableDictionary.CreateBuilder<string, IActorRef>();
        nodes[GraphWiring.InputNode] = input;
        foreach (int i in _plan.DriverLayers)
        {
            string name = _plan.Spec.Layers[i].Name;
            nodes[name] = Start(factory.LayerProps(i, layers.Backends[i], layers.Blocks[i], layers.Rules.GetValueOrDefault(i), input), name);
        }
        layers.HandedOver();
        if (_plan.Options.Graph == GraphKind.Backprop && !_plan.Placement.IsRemote(GraphWiring.LossNode))
            nodes[GraphWiring.LossNode] = Start(factory.LossProps(backendFactory(), input), GraphWiring.LossNode);
        if (_plan.Monitored) nodes[GraphWiring.MonitorNode] = StartMonitor(source, backendFactory, observer, input);
        if (_cluster is not null && _plan.Placement.WorkerRoles.Count > 0)
        {
            var (hosted, posts) = await HostOnWorkersAsync(_cluster, input).ConfigureAwait(false);
            foreach (var (name, actor) in hosted) nodes[name] = actor;
            _posts = posts;
        }
        _nodes = nodes.ToImmutable();
    }

    /// <summary>Connects the started nodes; the input starts sending once connected.</summary>
    public void Connect()
    {
        var connect = new Connect(_nodes) { Posts = _posts };
        // The input node last: it starts sending data as soon as it is connected, and every other node
        // must have its Connect in its mailbox before the first message reaches it.
        foreach (var node in _nodes.Where(n => n.Key != GraphWiring.InputNode).Select(n => n.Value)) node.Tell(connect);
        _nodes[GraphWiring.InputNode].Tell(connect);
    }

    /// <summary>Waits for the last step to be reported by every node; returns the time since the clock was started.</summary>
    public async Task<TimeSpan> FinishedAsync(Stopwatch clock)
    {
        await _finished.Task.ConfigureAwait(false);
        clock.Stop();
        return clock.Elapsed;
    }

    /// <summary>Every layer's final parameters and, when monitored, the in-run measurements once the monitor has caught up.</summary>
    public async Task<RunResult> CollectAsync(StepRecorder recorder, TimeSpan elapsed)
    {
        var parameters = ImmutableDictionary.CreateBuilder<string, Parameters>();
        foreach (var layer in _plan.Spec.Layers)
        {
            try
            {
                parameters[layer.Name] = await _nodes[layer.Name].Ask<Parameters>(new GetParameters(), ParametersTimeout).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                throw new TimeoutException($"Node '{layer.Name}' ({_nodes[layer.Name].Path}) did not hand over its parameters within {ParametersTimeout.TotalSeconds:F0} s after the last step.");
            }
        }
        if (_plan.Monitored) await FlushMonitorAsync().ConfigureAwait(false);
        lock (_alignment)
            return new RunResult(recorder.Losses, recorder.ReferenceSteps, parameters.ToImmutable(), elapsed) { Alignment = [.. _alignment.OrderBy(a => a.Step)] };
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownsSystem)
        {
            await _system.Terminate().ConfigureAwait(false);
            return;
        }
        // The watch goes first, so that stopping the run's nodes is not taken for a lost worker.
        foreach (var actor in _started.AsEnumerable().Reverse()) _system.Stop(actor);
        // Each live host answers once its nodes are stopped and their spans written; a lost one is not asked.
        var stopping = _hosts.Where(h => h.Role != LostRole).Select(h => h.Host.Ask<NodesStopped>(new StopNodes(_runId), TimeSpan.FromSeconds(10)));
        try { await Task.WhenAll(stopping).ConfigureAwait(false); }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException) { /* a host that went away meanwhile: nothing to flush */ }
    }

    private IActorRef Start(Props props, string node)
    {
        var actor = _system.ActorOf(props, _ownsSystem ? node : $"{node}-{_runId}");
        _started.Add(actor);
        return actor;
    }

    private IActorRef StartInput(IBatchSource source, StepRecorder recorder)
    {
        var (plan, finished, failedLate, sends) = (_plan, _finished, _failedLate, Sends);
        return Start(Props.Create(() => new InputActor(source, plan.Wiring, plan.Reporters.Count, plan.Options.Steps, plan.Options.Schedule.MaxInFlight,
            recorder.Record, finished, plan.FirstStep, e => failedLate.TrySetException(e), sends)), GraphWiring.InputNode);
    }

    /// <summary>The monitor's meter builds its rules like the run's (same seed), then loads each snapshot.</summary>
    private IActorRef StartMonitor(IBatchSource source, Func<IComputeBackend> backendFactory, IRunObserver? observer, IActorRef input)
    {
        var (options, wiring, alignment) = (_plan.Options, _plan.Wiring, _alignment);
        var meter = options.Instruments.AlignEvery > 0 ? new AlignmentMeter(_plan.Spec, backendFactory(), options.Seed) : null;
        Action<long, IReadOnlyList<LayerAlignment>> onMeasured = (step, layers) => { lock (alignment) alignment.AddRange(layers.Select(l => new AlignmentSample(step, l))); };
        var monitor = new MonitorSetup([.. _plan.Spec.Layers.Select(l => l.Name)], source, meter, options.Instruments.AlignEvery, onMeasured, observer, options.Instruments.ObserveEvery);
        return Start(Props.Create(() => new MonitorActor(monitor, wiring, input)), GraphWiring.MonitorNode);
    }

    private async Task<(ImmutableDictionary<string, IActorRef> Nodes, ImmutableDictionary<string, IActorRef> Posts)> HostOnWorkersAsync(ClusterRun cluster, IActorRef input)
    {
        var options = _plan.Options;
        // Workers run elsewhere: they are given the checkpoint folder as an absolute path.
        if (options.Checkpoints.Directory is { } dir) options = options with { Checkpoints = options.Checkpoints with { Directory = Path.GetFullPath(dir) } };
        var recipe = new NodeRecipe(Topology.NetworkSpecJson.Serialize(_plan.Spec), options, _plan.SnapshotEvery, _plan.Monitored, _plan.FirstStep, _plan.ResumedStep,
            cluster.Device, cluster.Threads);
        var hosted = await RemoteHosting.HostAsync(cluster, recipe, _plan.Reporters, _runId, input, _hosts).ConfigureAwait(false);
        var watched = _hosts.ToImmutableDictionary(h => h.Host.Path.Address, h => (h.Role, _plan.Placement.NodesOf(h.Role).Where(_plan.Reporters.Contains).ToImmutableArray()));
        _started.Add(_system.ActorOf(Props.Create(() => new WorkerWatchActor(watched, input)), $"watch-{_runId}"));
        return hosted;
    }

    /// <summary>
    /// The monitor may lag behind the layers (each measurement is a forward and a backward pass of the whole
    /// net); its mailbox is in order, so the answer comes after the last snapshot. A monitor that failed never
    /// answers: its failure ends the wait, with its reason.
    /// </summary>
    private async Task FlushMonitorAsync()
    {
        var flush = _nodes[GraphWiring.MonitorNode].Ask<MonitorActor.Flushed>(new MonitorActor.Flush(), TimeSpan.FromMinutes(10));
        await Task.WhenAny(flush, _failedLate.Task).ConfigureAwait(false);
        if (_failedLate.Task.IsFaulted) await _failedLate.Task.ConfigureAwait(false);
        var flushed = await flush.ConfigureAwait(false);
        if (flushed.IncompleteSteps > 0)
            throw new InvalidOperationException($"The alignment monitor is missing snapshots for {flushed.IncompleteSteps} steps.");
    }
}
