using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Plastic.Sim.Protocol;

namespace Plastic.Tests.Sim;

/// <summary>
/// Every simulator message sent through an actor system with serialize-messages = on: each one is
/// serialised and deserialised on every send, which proves it immutable and serialisable (tensor
/// payloads through the binary serializer). Slow by design; kept to this class.
/// </summary>
public sealed class MessageSerializationTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(
    "akka.actor.serialize-messages = on\nakka.actor.serialize-creators = off\n" + SimMessageSerializer.Config).WithFallback(ActorTestConfig.Patient))
{
    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }

    public static TheoryData<string> Kinds() => ["forward", "pairing", "reference", "backward", "snapshot", "snapshot-no-bias"];

    private static ISimMessage Make(string kind)
    {
        var trace = new TraceContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        var payload = TensorPayload.Copy([1.5f, -2f, 3.25f, 0f, float.Epsilon, -0f], 2, 3);
        return kind switch
        {
            "forward" => new Forward("block1", 7, payload, trace),
            "pairing" => new Pairing("input", 7, [1, 2, 0], trace),
            "reference" => new TopDownReference("block6", 7, payload, TraceContext.None),
            "snapshot" => new Snapshot("block2", 7, payload, TensorPayload.Copy([4f, 5f], 2), [payload, TensorPayload.Copy([9f], 1, 1)], trace),
            "snapshot-no-bias" => new Snapshot("block2", 7, payload, null, [], trace),
            _ => new Backward("loss", 7, payload, trace),
        };
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Message_survives_the_round_trip_through_serialisation(string kind)
    {
        var message = Make(kind);
        var echo = Sys.ActorOf(Props.Create(() => new Echo()));
        echo.Tell(message, TestActor);
        var back = ExpectMsg<ISimMessage>();
        Assert.NotSame(message, back); // it really went through the serializer
        Assert.Equal(message, back);
        Assert.Equal(message.Bytes, back.Bytes);
    }

    [Fact]
    public void The_binary_serializer_is_the_one_bound_to_simulator_messages()
    {
        var serializer = Sys.Serialization.FindSerializerFor(Make("forward"));
        Assert.IsType<SimMessageSerializer>(serializer);
        // Raw float32: 4 bytes a value plus a header of the strings, step and dimensions.
        var big = new Forward("block1", 1, TensorPayload.Copy(new float[10_000], 100, 100), TraceContext.None);
        int size = serializer.ToBinary(big).Length;
        Assert.InRange(size, 40_000, 40_000 + 64);
    }

    [Fact]
    public void A_payload_owns_its_values()
    {
        var values = new[] { 1f, 2f, 3f, 4f };
        var payload = TensorPayload.Copy(values, 4);
        values[0] = 99f;
        Assert.Equal(1f, payload.Values[0]);
        Assert.Throws<Plastic.Compute.ShapeMismatchException>(() => TensorPayload.Copy(values, 3));
    }

    [Fact]
    public void A_message_is_written_at_its_exact_size_and_its_tensor_is_read_in_place()
    {
        var serializer = (SimMessageSerializer)Sys.Serialization.FindSerializerFor(Make("forward"));
        var values = Enumerable.Range(0, 1000).Select(i => i * 0.25f - 3f).ToArray();
        var message = new Forward("block3", 42, TensorPayload.Copy(values, 10, 100), new TraceContext("00-ab-cd-01", 1234));
        var bytes = serializer.ToBinary(message);
        // The strings with their 4-byte lengths, two longs, the dimensions, padding to 4 bytes, the floats: nothing more.
        int header = 4 + "block3".Length + 8 + 4 + "00-ab-cd-01".Length + 8 + 4 + 2 * 4;
        Assert.Equal(header + (4 - header % 4) % 4 + 4000, bytes.Length);
        var back = (Forward)serializer.FromBinary(bytes, serializer.Manifest(message));
        Assert.Equal(message, back);
        Assert.True(back.Activations.ReadsFrom(bytes)); // no copy on receipt: the values are the received bytes
        Assert.Equal(values, back.Activations.Values.ToArray());
    }

    [Fact]
    public void A_truncated_or_padded_message_is_refused_with_what_is_wrong()
    {
        var serializer = (SimMessageSerializer)Sys.Serialization.FindSerializerFor(Make("forward"));
        var message = Make("snapshot");
        var bytes = serializer.ToBinary(message);
        var truncated = Assert.Throws<InvalidDataException>(() => serializer.FromBinary(bytes[..^3], "S"));
        Assert.Contains("truncated", truncated.Message);
        var longer = Assert.Throws<InvalidDataException>(() => serializer.FromBinary([.. bytes, 0, 0], "S"));
        Assert.Contains("2 bytes left over", longer.Message);
    }
}
