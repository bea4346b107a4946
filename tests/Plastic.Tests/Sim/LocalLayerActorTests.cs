using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim.Actors;
using Plastic.Sim.Blocks;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>A layer actor with TestProbes standing in for its neighbours and its driver.</summary>
public sealed class LocalLayerActorTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly NetworkSpec Spec = Presets.Mlp(6, [5, 4], "clapp++");
    private readonly TestProbe _driver, _above, _input;
    private readonly IActorRef _layer;

    public LocalLayerActorTests() : base(ActorTestConfig.Patient)
    {
        _driver = CreateTestProbe();
        _above = CreateTestProbe();
        _input = CreateTestProbe();
        var backend = new CpuBackend(threads: 1);
        var shape = NetworkValidator.Validate(Spec)[0];
        var optimizer = new AdamWSettings(1e-3f);
        var setup = new LayerSetup("fc1", backend, new LayerBlock(backend, shape, new RandomStream(1, 0)),
            new LateralRule(backend, shape.LossFeatures.Size, null, new RandomStream(1, 1000), optimizer),
            GraphWiring.Local(Spec), optimizer, _driver.Ref);
        _layer = Sys.ActorOf(Props.Create(() => new LocalLayerActor(setup)), "fc1");
        _layer.Tell(new Connect(ImmutableDictionary<string, IActorRef>.Empty.Add("fc2", _above.Ref).Add("input", _input.Ref)));
    }

    private static Forward Batch(long step) =>
        new("input", step, TensorPayload.Copy(Enumerable.Range(0, 4 * 6).Select(i => MathF.Sin(i + step)).ToArray(), 4, 6), TraceContext.None);

    private static Pairing Pairs(long step) => new("input", step, [3, 2, 1, 0], TraceContext.None);

    [Fact]
    public void Sends_its_output_up_at_once_and_updates_when_the_pairing_arrives()
    {
        _layer.Tell(Batch(0));
        var up = _above.ExpectMsg<Forward>();
        Assert.Equal("fc1", up.From);
        Assert.Equal([4, 5], up.Activations.Dims.ToArray());
        _driver.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // the rule needs the pairing before the update
        _layer.Tell(Batch(1));
        _above.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // step 1's forward waits for step 0's update
        _layer.Tell(Pairs(0));
        var done = _driver.ExpectMsg<StepDone>();
        Assert.Equal(("fc1", 0L), (done.Layer, done.Step));
        Assert.Equal(1, _above.ExpectMsg<Forward>().Step);
    }

    [Fact]
    public void Steps_are_handled_in_order_whatever_order_they_arrive_in()
    {
        _layer.Tell(Pairs(1));
        _layer.Tell(Batch(1));
        _layer.Tell(Pairs(0));
        _layer.Tell(Batch(0));
        Assert.Equal(0, _above.ExpectMsg<Forward>().Step);
        Assert.Equal(1, _above.ExpectMsg<Forward>().Step);
    }

    [Fact]
    public void A_gradient_sent_to_a_local_layer_is_refused_naming_the_edge_and_kind()
    {
        _layer.Tell(new Backward("fc2", 0, TensorPayload.Copy(new float[8], 2, 4), TraceContext.None));
        var failed = _driver.ExpectMsg<NodeFailed>();
        Assert.Equal("fc1", failed.Node);
        Assert.Contains("no edge fc2 -> fc1", failed.Reason);
        Assert.Contains("Backward", failed.Reason);
        _above.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Activations_from_a_node_that_is_not_below_are_refused()
    {
        _layer.Tell(Batch(0) with { From = "fc2" });
        var failed = _driver.ExpectMsg<NodeFailed>();
        Assert.Contains("fc2 -> fc1", failed.Reason);
    }
}
