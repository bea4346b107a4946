using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Plastic.Sim;
using Plastic.Sim.Actors;
using Plastic.Compute;
using Plastic.Sim.Distributed;
using Plastic.Sim.Negatives;

namespace Plastic.Tests.Sim;

/// <summary>
/// The control and hosting messages through the binary <see cref="ControlSerializer"/>: each one round-trips
/// to an equal message (actor references by path, parameters as raw float32), and it is the serializer
/// bound to them, so none of them falls back to JSON when it crosses processes.
/// </summary>
public sealed class ControlSerializationTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(ControlSerializer.Config + "\n" + Plastic.Sim.Protocol.SimMessageSerializer.Config).WithFallback(ActorTestConfig.Patient))
{
    /// <summary>Every field of the run's options set away from its default, so that a field the format forgets fails the round trip.</summary>
    private static readonly RunOptions Options = new(40, BatchSize: 8, Seed: 7, Graph: GraphKind.Backprop)
    {
        Schedule = new ScheduleOptions(3, Staleness: 2, LayerSteps: [10, 30]),
        Optimizer = new AdamWSettings(1e-3f, 0.8f, 0.99f, 1e-7f, 1e-5f),
        Instruments = new InstrumentOptions(5, 10),
        Checkpoints = new CheckpointOptions(10, "runs/example/checkpoints", true, "0123abcd") { Keep = 3 },
        Negatives = NegativeSampling.Shift,
        Faults = "l1@3,l2@4",
    };

    private static readonly NodeRecipe Recipe = new("{\"name\": \"n\"}", Options, 5, true, 12, 11, "cpu", 1);

    private object[] Messages() =>
    [
        new Connect(ImmutableDictionary<string, IActorRef>.Empty.Add("input", TestActor).Add("block1", TestActor)),
        new Connect(ImmutableDictionary<string, IActorRef>.Empty.Add("input", TestActor).Add("block2", TestActor)) { Posts = ImmutableDictionary<string, IActorRef>.Empty.Add("block2", TestActor) },
        new StepDone("block1", 4, 0.25, 3),
        new StepsDone([new StepDone("block2", 7, 1.5, 7), new StepDone("block3", 7, double.NaN), new StepDone("loss", 7, -0.0)]),
        new Fanout(["block2", "block3"], new Plastic.Sim.Protocol.Pairing("input", 9, [3, 0, 1, 2], new Plastic.Sim.Protocol.TraceContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 1234))),
        new NodesHosted("run1", ImmutableDictionary<string, IActorRef>.Empty.Add("block2", TestActor).Add("block3", TestActor), TestActor),
        new StepDone("loss", 4, double.NaN),
        new NodeFailed("block2", 9, "Locality violation"),
        new GetParameters(),
        new HostingFailed("run1", "worker1", "no such rule"),
        new StopNodes("run1"),
        new NodesStopped("run1"),
        new HostNodes("run1", Recipe, ["block2", "loss"], TestActor, 8_000_000, "runs/example/traces.worker1.jsonl"),
        new HostNodes("run2", Recipe with { Options = new RunOptions(3), ResumedStep = null, Device = null, Threads = null }, ["block1"], TestActor, 4_000_000, null),
    ];

    [Fact]
    public void Every_control_message_round_trips_through_the_binary_serializer()
    {
        foreach (var message in Messages())
        {
            var serializer = Sys.Serialization.FindSerializerFor(message);
            Assert.IsType<ControlSerializer>(serializer);
            var manifest = ((Akka.Serialization.SerializerWithStringManifest)serializer).Manifest(message);
            var back = ((Akka.Serialization.SerializerWithStringManifest)serializer).FromBinary(serializer.ToBinary(message), manifest);
            Assert.NotSame(message, back);
            switch (message)
            {
                case Connect c:
                    Assert.Equal(c.Nodes.OrderBy(kv => kv.Key), ((Connect)back).Nodes.OrderBy(kv => kv.Key));
                    Assert.Equal(c.Posts.OrderBy(kv => kv.Key), ((Connect)back).Posts.OrderBy(kv => kv.Key));
                    break;
                case NodesHosted n:
                    var hosted = (NodesHosted)back;
                    Assert.Equal((n.RunId, n.Post), (hosted.RunId, hosted.Post));
                    Assert.Equal(n.Nodes.OrderBy(kv => kv.Key), hosted.Nodes.OrderBy(kv => kv.Key));
                    break;
                case HostNodes h:
                    var b = (HostNodes)back;
                    Assert.Equal(h.Recipe, b.Recipe);
                    Assert.Equal(h.Nodes.ToArray(), b.Nodes.ToArray());
                    Assert.Equal(h with { Nodes = b.Nodes }, b);
                    break;
                default:
                    Assert.Equal(message, back);
                    break;
            }
        }
    }

    [Fact]
    public void Parameters_travel_as_raw_float32()
    {
        var weights = Enumerable.Range(0, 10_000).Select(i => i * 0.5f - 7f).ToArray();
        var message = new Parameters("block1", [.. weights], [1f, -0f, float.NaN]);
        var serializer = Sys.Serialization.FindSerializerFor(message);
        var bytes = serializer.ToBinary(message);
        Assert.InRange(bytes.Length, 40_012, 40_012 + 64);
        var back = (Parameters)((Akka.Serialization.SerializerWithStringManifest)serializer).FromBinary(bytes, "W");
        Assert.Equal(weights, back.Weight.ToArray());
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(back.Bias[1]));
        Assert.True(float.IsNaN(back.Bias[2]));
    }
}
