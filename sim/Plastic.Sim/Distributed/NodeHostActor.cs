using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Plastic.Compute;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim.Distributed;

/// <summary>
/// The actor a cluster worker runs at /user/host: it builds the nodes a driver places on its role from
/// the run's recipe (spec and seed, never shipped objects), starts them as its children, and stops them
/// when the run ends or its driver goes away. One host serves any number of runs, one after another or
/// at once.
/// </summary>
public sealed class NodeHostActor : ReceiveActor
{
    public const string ActorName = "host";

    private readonly string _role;
    private readonly Func<string, IDisposable?>? _startTracing;
    private readonly Dictionary<string, HostedRun> _runs = [];

    /// <param name="startTracing">Starts writing this process's spans to a file for a run (the CLI's node command); null: the process's own tracing, if any.</param>
    public NodeHostActor(string role, Func<string, IDisposable?>? startTracing = null)
    {
        _role = role;
        _startTracing = startTracing;
        Receive<HostNodes>(Host);
        Receive<StopNodes>(s =>
        {
            Stop(s.RunId);
            Sender.Tell(new NodesStopped(s.RunId));
        });
        Receive<Terminated>(t =>
        {
            if (NodeOf(t.ActorRef) is { } node) NodeStopped(node.Run, node.Name);
            else StopRunsOf(d => d.Equals(t.ActorRef));
        });
        // A driver that dies is only unreachable (nobody downs it), which DeathWatch does not report: its
        // runs are stopped as soon as its member is unreachable or removed.
        Receive<ClusterEvent.UnreachableMember>(m =>
        {
            StopRunsOf(d => d.Path.Address == m.Member.Address);
            // A driver holds nothing the cluster needs: an unreachable one is marked down at once, or the
            // members could never again agree (no new driver could join, no worker could leave).
            if (m.Member.HasRole(Placement.DriverRole)) Cluster.Get(Context.System).Down(m.Member.Address);
        });
        Receive<ClusterEvent.MemberRemoved>(m => StopRunsOf(d => d.Path.Address == m.Member.Address));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    // A host runs in a cluster member (ClusterMember.StartHost).
    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved));

    /// <summary>The driver of these runs is gone: their nodes have nobody to report to.</summary>
    private void StopRunsOf(Func<IActorRef, bool> isGoneDriver)
    {
        foreach (var (run, hosted) in _runs.Where(r => isGoneDriver(r.Value.Driver)).ToList())
        {
            Context.GetLogger().Warning("Run {0}: its driver {1} is gone; stopping its {2} node(s) here.", run, hosted.Driver.Path.Address, hosted.Nodes.Count);
            Stop(run);
        }
    }

    private void Host(HostNodes request)
    {
        IDisposable? tracing = null;
        IActorRef? post = null;
        try
        {
            if (_runs.ContainsKey(request.RunId)) throw new InvalidOperationException($"run {request.RunId} already has nodes here.");
            long own = RemoteFrames.LimitOf(Context.System) ?? long.MaxValue;
            if (own < request.FrameBytes)
                throw new InvalidOperationException($"this worker's remote frame limit is {own:N0} bytes, below the driver's {request.FrameBytes:N0}: messages the driver may send would be dropped here; start the worker with --frame-bytes {request.FrameBytes} or more.");
            var recipe = request.Recipe;
            var spec = recipe.Spec();
            var shapes = NetworkValidator.Validate(spec);
            var wiring = recipe.Options.Graph == GraphKind.Local ? GraphWiring.Local(spec, recipe.Monitored) : GraphWiring.Backprop(spec, recipe.Monitored);
            var factory = new NodeFactory(spec, shapes, recipe.Options, wiring, recipe.SnapshotEvery, recipe.FirstStep, recipe.ResumedStep, RemoteFrames.PolicyOf(Context.System));
            tracing = request.TracesPath is { } path ? _startTracing?.Invoke(path) : null;
            // The nodes report to the run's post here, which batches their reports of a step for the driver.
            // Named so that no node's actor ("{layer}-{run}") can have its name, whatever the layers are called.
            post = Context.ActorOf(Props.Create(() => new RunPost(request.Driver, request.Nodes.Length, _role)), $"{request.RunId}-post");
            var built = factory.Build(request.Nodes, () => BackendCatalog.Create(recipe.Device, recipe.Threads), post);
            var nodes = built.ToImmutableDictionary(b => b.Name, b => Context.ActorOf(b.Props, $"{b.Name}-{request.RunId}"));
            post.Tell(new RunPost.Hosted(nodes));
            // A node that stops while its run goes on (its actor failed outside a step) would leave the driver
            // waiting for its reports: the host watches it and tells the driver.
            foreach (var node in nodes.Values) Context.Watch(node);
            Context.Watch(request.Driver);
            _runs[request.RunId] = new HostedRun(request.Driver, nodes, post, tracing);
            Sender.Tell(new NodesHosted(request.RunId, nodes, post));
        }
        catch (Exception e)
        {
            tracing?.Dispose();
            if (post is not null) Context.Stop(post);
            Sender.Tell(new HostingFailed(request.RunId, _role, e.Message));
        }
    }

    private void Stop(string runId)
    {
        if (!_runs.Remove(runId, out var run)) return;
        foreach (var node in run.Nodes.Values)
        {
            Context.Unwatch(node);
            Context.Stop(node);
        }
        Context.Stop(run.Post);
        if (!_runs.Values.Any(r => r.Driver.Equals(run.Driver))) Context.Unwatch(run.Driver);
        run.Tracing?.Dispose();
    }

    protected override void PostStop()
    {
        Cluster.Get(Context.System).Unsubscribe(Self);
        foreach (var run in _runs.Values) run.Tracing?.Dispose();
        base.PostStop();
    }

    private (string Run, string Name)? NodeOf(IActorRef actor) =>
        _runs.SelectMany(r => r.Value.Nodes.Where(n => n.Value.Equals(actor)).Select(n => (r.Key, n.Key))).Cast<(string, string)?>().FirstOrDefault();

    /// <summary>
    /// A node that failed in a step told the driver why before it stopped; this report comes a second later,
    /// so that the node's own reason, sent from another actor, is the one the driver hears first.
    /// </summary>
    private void NodeStopped(string runId, string name)
    {
        Context.GetLogger().Warning("Run {0}: node {1} stopped while its run goes on; telling its driver.", runId, name);
        var report = new Actors.NodeFailed(name, -1, $"the node stopped on worker '{_role}' before the run ended (its actor failed outside a step; the worker's log says why)");
        Context.System.Scheduler.ScheduleTellOnce(TimeSpan.FromSeconds(1), _runs[runId].Driver, report, Self);
    }

    private sealed record HostedRun(IActorRef Driver, ImmutableDictionary<string, IActorRef> Nodes, IActorRef Post, IDisposable? Tracing);
}
