using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Akka.Actor;
using Plastic.Compute;
using Plastic.Sim.Distributed;
using Plastic.Sim.Distributed.Lanes;
using Plastic.Sim.Protocol;

namespace Plastic.Tests.Sim;

/// <summary>
/// Tensor lanes: a tensor held by one process is fetched by another bit for bit, once, in the order asked,
/// from several threads at once; an unknown number and a sender that goes away fail the fetch with the reason
/// instead of hanging it; between two cluster members a large tensor leaves the message for a lane.
/// </summary>
[Collection("Cluster")]
public sealed class TensorLaneTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Values with the bit patterns a careless copy would change: NaN payloads, -0, subnormals, infinities.</summary>
    private static TensorPayload Tensor(int count, int seed)
    {
        var values = new float[count];
        var random = new Random(seed);
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        values[0] = -0f;
        values[count / 2] = BitConverter.Int32BitsToSingle(0x7fc0_1234); // a NaN with a payload
        values[count - 1] = float.Epsilon;
        values[count / 3] = float.NegativeInfinity;
        return TensorPayload.Copy(values, count);
    }

    private static void AssertSameBytes(TensorPayload sent, byte[] fetched)
    {
        var expected = MemoryMarshal.AsBytes(sent.Values);
        Assert.True(expected.SequenceEqual(fetched.AsSpan(0, expected.Length)), "the fetched bytes differ from the sent tensor's");
    }

    [Fact]
    public async Task A_held_tensor_is_fetched_bit_for_bit_and_then_let_go()
    {
        using var server = new LaneServer("127.0.0.1");
        using var fetcher = new LaneFetcher(server.Endpoint);
        var sent = Tensor(100_003, 1);
        long number = server.Hold(sent);
        Assert.Equal(1, server.Held);
        var bytes = await fetcher.Get(number, sent.Length * sizeof(float)).WaitAsync(Patience);
        AssertSameBytes(sent, bytes);
        ArrayPool<byte>.Shared.Return(bytes);
        Assert.Equal(0, server.Held);
        // Fetched once: asking again is an error that says why.
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => fetcher.Get(number, sent.Length * sizeof(float)).WaitAsync(Patience));
        Assert.Contains($"Tensor {number} is not held at lane {server.Endpoint}", again.Message);
    }

    [Fact]
    public async Task A_lent_payload_is_given_back_once_its_lane_has_written_it_and_is_never_written_twice()
    {
        using var backend = new Plastic.Compute.Cpu.CpuBackend(threads: 1);
        var values = Enumerable.Range(0, 70_000).Select(i => MathF.Sin(i) * 1e-3f).ToArray();
        values[9] = BitConverter.Int32BitsToSingle(0x7fc0_4321); // a NaN with a payload
        using var tensor = backend.Upload(values, new Shape(7, 10_000));
        var sent = TensorPayload.Lent(tensor);
        Assert.True(sent.IsLent);
        using var server = new LaneServer("127.0.0.1");
        using var fetcher = new LaneFetcher(server.Endpoint);
        long first = server.Hold(sent);
        long second = server.Hold(sent); // offered twice, as a message serialized a second time would be
        var bytes = await fetcher.Get(first, values.Length * sizeof(float)).WaitAsync(Patience);
        Assert.True(MemoryMarshal.AsBytes(values.AsSpan()).SequenceEqual(bytes.AsSpan(0, values.Length * sizeof(float))), "the fetched bytes differ from the tensor's");
        ArrayPool<byte>.Shared.Return(bytes);
        Assert.False(sent.IsLent); // written: back in the pool
        // The array may be someone else's now: the second offer is answered "not held", never with its bytes.
        var again = await Assert.ThrowsAsync<InvalidOperationException>(() => fetcher.Get(second, values.Length * sizeof(float)).WaitAsync(Patience));
        Assert.Contains($"Tensor {second} is not held at lane {server.Endpoint}", again.Message);
    }

    [Fact]
    public async Task A_lane_named_by_host_name_is_reached_through_it()
    {
        using var server = new LaneServer("localhost");
        Assert.StartsWith("localhost:", server.Endpoint);
        using var fetcher = new LaneFetcher(server.Endpoint);
        var sent = Tensor(777, 8);
        AssertSameBytes(sent, await fetcher.Get(server.Hold(sent), sent.Length * sizeof(float)).WaitAsync(Patience));
    }

    [Fact]
    public async Task Fetches_from_several_threads_each_get_their_own_tensor()
    {
        using var server = new LaneServer("127.0.0.1");
        using var fetcher = new LaneFetcher(server.Endpoint);
        var sent = Enumerable.Range(0, 40).Select(i => Tensor(1000 + 37 * i, i)).ToArray();
        var numbers = sent.Select(server.Hold).ToArray();
        var fetched = new byte[sent.Length][];
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            for (int i = t; i < sent.Length; i += 4) fetched[i] = await fetcher.Get(numbers[i], sent[i].Length * sizeof(float));
        }))).WaitAsync(Patience);
        for (int i = 0; i < sent.Length; i++) AssertSameBytes(sent[i], fetched[i]);
        Assert.Equal(0, server.Held);
    }

    [Fact]
    public async Task A_size_other_than_the_message_announced_fails_the_fetch()
    {
        using var server = new LaneServer("127.0.0.1");
        using var fetcher = new LaneFetcher(server.Endpoint);
        long number = server.Hold(Tensor(64, 3));
        var e = await Assert.ThrowsAsync<IOException>(() => fetcher.Get(number, 100).WaitAsync(Patience));
        Assert.Contains($"tensor {number} came with 256 bytes where its message announced 100", e.Message);
    }

    [Fact]
    public async Task A_sender_that_goes_away_fails_the_waiting_and_the_later_fetches_instead_of_hanging_them()
    {
        var server = new LaneServer("127.0.0.1");
        using var fetcher = new LaneFetcher(server.Endpoint);
        var sent = Tensor(500, 4);
        long number = server.Hold(sent);
        var first = await fetcher.Get(number, sent.Length * sizeof(float)).WaitAsync(Patience); // the lane is up
        AssertSameBytes(sent, first);
        server.Dispose();
        var e = await Assert.ThrowsAsync<IOException>(() => fetcher.Get(number + 1, 4).WaitAsync(Patience));
        Assert.Contains($"could not be fetched from lane {server.Endpoint}", e.Message);
        var later = await Assert.ThrowsAsync<IOException>(() => fetcher.Get(number + 2, 4).WaitAsync(Patience));
        Assert.Contains($"could not be fetched from lane {server.Endpoint}", later.Message);
    }

    [Fact]
    public async Task A_lane_that_closes_between_an_answer_and_its_bytes_fails_the_fetch_instead_of_handing_out_stale_bytes()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var halfAnswer = Task.Run(() =>
        {
            using var connection = listener.Accept();
            var request = new byte[LaneWire.RequestBytes];
            LaneWire.ReceiveAll(connection, request);
            var header = new byte[LaneWire.AnswerHeaderBytes];
            request.CopyTo(header, 0);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), 4096);
            connection.Send(header);
            connection.Shutdown(SocketShutdown.Both); // the sender dies after the header
        });
        using var fetcher = new LaneFetcher($"127.0.0.1:{((IPEndPoint)listener.LocalEndPoint!).Port}");
        var e = await Assert.ThrowsAsync<IOException>(() => fetcher.Get(7, 4096).WaitAsync(Patience));
        await halfAnswer;
        Assert.Contains("closed its lane before tensor 7's 4096 bytes", e.Message);
    }

    [Fact]
    public async Task A_lane_nobody_listens_on_fails_the_fetch_naming_it()
    {
        using var server = new LaneServer("127.0.0.1");
        string endpoint = server.Endpoint;
        server.Dispose();
        using var system = ActorSystem.Create("lanes-test");
        var e = await Assert.ThrowsAsync<IOException>(() => TensorLanes.Of(system).Fetch(endpoint, 1, 4).WaitAsync(Patience));
        Assert.Contains($"no lane at {endpoint}", e.Message);
    }

    [Fact]
    public void A_fetched_payload_reads_as_the_sent_values_and_its_one_copy_gives_the_array_back()
    {
        using var server = new LaneServer("127.0.0.1");
        using var fetcher = new LaneFetcher(server.Endpoint);
        var sent = Tensor(1200, 5);
        long number = server.Hold(sent);
        var payload = TensorPayload.Fetching([30, 40], sent.Length, fetcher.Get(number, sent.Length * sizeof(float)), $"{number} of lane {server.Endpoint}");
        Assert.True(MemoryMarshal.AsBytes(sent.Values).SequenceEqual(MemoryMarshal.AsBytes(payload.Values)), "values differ");
        Assert.True(payload.IsLent);
        var backend = BackendCatalog.Create("cpu", 1);
        using var tensor = backend.Allocate(new Shape(30, 40));
        payload.CopyTo(backend, tensor);
        Assert.True(MemoryMarshal.AsBytes(sent.Values).SequenceEqual(MemoryMarshal.AsBytes(tensor.ToArray().AsSpan())), "the copy differs");
        Assert.False(payload.IsLent);
        var e = Assert.Throws<InvalidOperationException>(() => payload.Values.ToArray());
        Assert.Contains("handed to its one receiver", e.Message);
    }

    [Fact]
    public async Task Between_two_members_a_large_tensor_leaves_the_message_for_a_lane_and_arrives_intact()
    {
        var (driver, worker, _) = await ClusterRunTests.TwoMembers(1 << 20, laneBytes: TensorLanes.DefaultSmallestBytes);
        await using (driver)
        await using (worker)
        {
            var large = new Forward("block1", 3, Tensor(300_000, 6), new TraceContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
            var small = new Forward("block1", 3, Tensor(1000, 7), TraceContext.None);
            var outgoing = (SimMessageSerializer)driver.System.Serialization.FindSerializerFor(large);
            var incoming = (SimMessageSerializer)worker.System.Serialization.FindSerializerFor(large);
            var frame = outgoing.ToBinary(large);
            Assert.InRange(frame.Length, 1, 1024); // the 1.2 MB tensor is not in the frame
            Assert.Equal(1, TensorLanes.Of(driver.System).Held);
            Assert.Equal(large, incoming.FromBinary(frame, outgoing.Manifest(large)));
            Assert.Equal(0, TensorLanes.Of(driver.System).Held);
            // Below the smallest lane size, the tensor stays in the frame.
            var smallFrame = outgoing.ToBinary(small);
            Assert.InRange(smallFrame.Length, 4000, 4200);
            Assert.Equal(small, incoming.FromBinary(smallFrame, outgoing.Manifest(small)));
        }
    }

    [Fact]
    public async Task With_lanes_off_every_tensor_stays_in_the_frame()
    {
        var (driver, worker, _) = await ClusterRunTests.TwoMembers(4 << 20);
        await using (driver)
        await using (worker)
        {
            Assert.Equal("tensor lanes off", TensorLanes.Of(driver.System).Describe());
            var large = new Forward("block1", 3, Tensor(300_000, 6), TraceContext.None);
            var serializer = driver.System.Serialization.FindSerializerFor(large);
            Assert.InRange(serializer.ToBinary(large).Length, 1_200_000, 1_200_100);
            Assert.Equal(0, TensorLanes.Of(driver.System).Held);
        }
    }

    [Fact]
    public async Task A_member_serves_its_lane_on_the_port_it_is_given_and_refuses_to_start_when_the_port_is_taken()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        await using (var member = await ClusterMember.JoinAsync(new ClusterSettings("127.0.0.1", 0, null, Placement.DriverRole, 1 << 20) { LanePort = port }, Patience))
        {
            Assert.Equal($"127.0.0.1:{port}", TensorLanes.Of(member.System).Open());
            // The port is taken now: a second member asking for it fails at start, naming the port.
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                ClusterMember.JoinAsync(new ClusterSettings("127.0.0.1", 0, member.HostAndPort, "worker1", 1 << 20) { LanePort = port }, Patience));
            Assert.Contains($"Could not open this process's tensor lane on 127.0.0.1:{port}", e.Message);
            Assert.Contains("PLASTIC_LANES=off", e.Message);
        }
    }

    [Theory]
    [InlineData(null, true, true)]
    [InlineData("", true, true)]
    [InlineData("on", true, true)]
    [InlineData("tcp", true, false)]
    [InlineData("TCP", true, false)]
    [InlineData("off", false, false)]
    [InlineData("OFF", false, false)]
    public void The_environment_turns_lanes_and_their_shared_memory_on_or_off(string? value, bool on, bool shared)
    {
        Assert.Equal(on, ClusterSettings.LanesFrom(value));
        Assert.Equal(shared ? TensorLanes.DefaultSharedBytes : 0, ClusterSettings.LaneSharedBytesFrom(value));
        var e = Assert.Throws<ArgumentException>(() => ClusterSettings.LanesFrom("yes"));
        Assert.Equal("PLASTIC_LANES='yes' must be on, tcp or off.", e.Message);
    }
}
