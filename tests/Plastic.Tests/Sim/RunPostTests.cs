using System.Collections.Immutable;
using Akka.Actor;
using Plastic.Sim.Actors;
using Plastic.Sim.Distributed;
using Plastic.Sim.Protocol;

namespace Plastic.Tests.Sim;

/// <summary>
/// A run's post on a cluster worker: it sends the driver one batch of reports a step, only once every node it
/// hosts has finished that step, whatever the order they report in; a failure goes on at once; a fanout reaches
/// each named node once. And the outbox that sends it: a pairing for several nodes of one worker goes to their
/// post once, every target still checked against the wiring and counted.
/// </summary>
public sealed class RunPostTests() : Akka.TestKit.Xunit2.TestKit(ActorTestConfig.Patient)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    [Fact]
    public void A_step_is_reported_once_every_hosted_node_finished_it_in_any_order()
    {
        var driver = CreateTestProbe();
        var post = Sys.ActorOf(Props.Create(() => new RunPost(driver.Ref, 3, "worker1")));
        post.Tell(new StepDone("b2", 0, 0.5));
        post.Tell(new StepDone("b1", 0, 0.25, 0));
        post.Tell(new StepDone("b1", 1, 0.125, 1)); // pipelined: b1 is a step ahead
        driver.ExpectNoMsg(Quiet);
        post.Tell(new StepDone("b3", 0, double.NaN));
        var first = driver.ExpectMsg<StepsDone>();
        Assert.Equal([new StepDone("b2", 0, 0.5), new StepDone("b1", 0, 0.25, 0), new StepDone("b3", 0, double.NaN)], first.Reports.ToArray());
        post.Tell(new StepDone("b3", 1, 1.0));
        driver.ExpectNoMsg(Quiet);
        post.Tell(new StepDone("b2", 1, 2.0));
        Assert.Equal([1L, 1L, 1L], driver.ExpectMsg<StepsDone>().Reports.Select(r => r.Step).ToArray());
        driver.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_failure_goes_to_the_driver_at_once_while_reports_wait()
    {
        var driver = CreateTestProbe();
        var post = Sys.ActorOf(Props.Create(() => new RunPost(driver.Ref, 2, "worker1")));
        post.Tell(new StepDone("b1", 4, 0.5));
        post.Tell(new NodeFailed("b2", 4, "Locality violation"));
        Assert.Equal(new NodeFailed("b2", 4, "Locality violation"), driver.ExpectMsg<NodeFailed>());
        driver.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_post_that_fails_stops_the_run_naming_its_worker_instead_of_restarting_without_its_reports()
    {
        var driver = CreateTestProbe();
        var post = Sys.ActorOf(Props.Create(() => new RunPost(driver.Ref, 2, "worker2")));
        Watch(post);
        post.Tell(new StepDone("b1", 3, 0.5));
        post.Tell(new Fanout(["b9"], null!)); // a message nobody sends: the post throws on it
        var failed = driver.ExpectMsg<NodeFailed>();
        Assert.Equal("worker2", failed.Node);
        Assert.Contains("reports it held are lost", failed.Reason);
        ExpectTerminated(post);
    }

    [Fact]
    public async Task The_input_counts_a_batch_of_reports_as_each_of_its_reports()
    {
        var spec = new Plastic.Topology.NetworkSpec("fc", new Plastic.Topology.InputSpec(4), [new("a", Plastic.Topology.LayerKind.Linear, 3), new("b", Plastic.Topology.LayerKind.Linear, 3), new("c", Plastic.Topology.LayerKind.Linear, 3)], [], "clapp++");
        var wiring = GraphWiring.Local(spec);
        var seen = new System.Collections.Concurrent.ConcurrentQueue<StepDone>();
        var finished = new TaskCompletionSource();
        var source = new Plastic.Sim.SyntheticBatches(spec.Input, 2, 1);
        var input = Sys.ActorOf(Props.Create(() => new InputActor(source, wiring, 3, 2, 1, seen.Enqueue, finished, 0, null, null)));
        var (a, b, c) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        input.Tell(new Connect(ImmutableDictionary<string, IActorRef>.Empty.Add("a", a.Ref).Add("b", b.Ref).Add("c", c.Ref).Add(GraphWiring.InputNode, input)));
        Assert.Equal(0, a.ExpectMsg<Pairing>().Step);
        Assert.Equal(0, a.ExpectMsg<Forward>().Step);
        input.Tell(new StepsDone([new StepDone("a", 0, 1.0), new StepDone("b", 0, 2.0)]));
        a.ExpectNoMsg(Quiet); // one step in flight: step 1 waits for c's report
        input.Tell(new StepDone("c", 0, 3.0));
        Assert.Equal(1, a.ExpectMsg<Pairing>().Step);
        input.Tell(new StepsDone([new StepDone("c", 1, 4.0), new StepDone("a", 1, 5.0), new StepDone("b", 1, 6.0)]));
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the run finishes once every report of its last step is in
        Assert.Equal([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], seen.Select(d => d.Loss).ToArray());
    }

    [Fact]
    public void A_fanout_reaches_each_named_node_once_and_an_unknown_name_fails_the_run()
    {
        var driver = CreateTestProbe();
        var (b1, b2, b3) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var post = Sys.ActorOf(Props.Create(() => new RunPost(driver.Ref, 3, "worker1")));
        post.Tell(new RunPost.Hosted(ImmutableDictionary<string, IActorRef>.Empty.Add("b1", b1.Ref).Add("b2", b2.Ref).Add("b3", b3.Ref)));
        var pairing = new Pairing("input", 5, [1, 0], TraceContext.None);
        post.Tell(new Fanout(["b1", "b3"], pairing));
        Assert.Same(pairing, b1.ExpectMsg<Pairing>());
        Assert.Same(pairing, b3.ExpectMsg<Pairing>());
        b1.ExpectNoMsg(Quiet);
        b2.ExpectNoMsg(TimeSpan.Zero);
        b3.ExpectNoMsg(TimeSpan.Zero);
        post.Tell(new Fanout(["b4"], pairing));
        var failed = driver.ExpectMsg<NodeFailed>();
        Assert.Equal(("b4", 5L), (failed.Node, failed.Step));
        Assert.Contains("hosted: b1, b2, b3", failed.Reason);
    }

    [Fact]
    public void A_pairing_for_several_nodes_of_one_worker_goes_to_their_post_once()
    {
        // Names of this test only: the counters are process-wide, and other tests send at the same time.
        var pairing = ImmutableHashSet.Create(MessageKind.Pairing);
        var forward = ImmutableHashSet.Create(MessageKind.Forward);
        var wiring = new Wiring([new EdgeContract("post-in", "post-b1", pairing), new EdgeContract("post-in", "post-b2", pairing), new EdgeContract("post-in", "post-b3", pairing),
            new EdgeContract("post-in", "post-b4", pairing), new EdgeContract("post-in", "post-b1", forward)]);
        var (b1, b2, b3, b4, post, lone) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var outbox = new Outbox("post-in", wiring);
        // b1 and b2 on one worker, b3 alone on another (a post is never used for one target), b4 in the driver's process.
        outbox.Connect(new Connect(ImmutableDictionary<string, IActorRef>.Empty.Add("post-b1", b1.Ref).Add("post-b2", b2.Ref).Add("post-b3", b3.Ref).Add("post-b4", b4.Ref))
        {
            Posts = ImmutableDictionary<string, IActorRef>.Empty.Add("post-b1", post.Ref).Add("post-b2", post.Ref).Add("post-b3", lone.Ref),
        });
        var counted = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Plastic.Sim.Tracing.SimTelemetry.Meter.Name && instrument.Name == "plastic.sim.messages") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var fields = tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString());
            if (fields.ContainsValue("post-in")) counted.AddOrUpdate(string.Join(">", fields.Values), value, (_, v) => v + value);
        });
        listener.Start();

        var message = new Pairing("post-in", 2, [1, 0], TraceContext.None);
        outbox.SendToAll(message);
        var fanout = post.ExpectMsg<Fanout>();
        Assert.Equal(["post-b1", "post-b2"], fanout.Targets.Order().ToArray());
        Assert.Same(message, fanout.Message);
        Assert.Same(message, b3.ExpectMsg<Pairing>());
        Assert.Same(message, b4.ExpectMsg<Pairing>());
        foreach (var quiet in new[] { b1, b2, lone }) quiet.ExpectNoMsg(TimeSpan.Zero);
        post.ExpectNoMsg(Quiet);
        // Counted per edge, as if sent to each target alone: the traffic matrix shows the graph's edges, not the transport.
        Assert.Equal(4, counted.Count);
        Assert.All(counted.Values, n => Assert.Equal(1, n));

        // A tensor never goes through a post: its payload is read once, by one receiver.
        var activations = new Forward("post-in", 2, TensorPayload.Copy([1f, 2f], 1, 2), TraceContext.None);
        outbox.SendToAll(activations);
        Assert.Same(activations, b1.ExpectMsg<Forward>());
        post.ExpectNoMsg(Quiet);
    }
}
