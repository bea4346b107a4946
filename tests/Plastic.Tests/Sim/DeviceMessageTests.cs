using System.Collections.Immutable;
using Akka.Actor;
using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Compute.Ilgpu;
using Plastic.Rules;
using Plastic.Sim;
using Plastic.Sim.Actors;
using Plastic.Sim.Blocks;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>
/// Activations between two layers of one process on one device stay on the device (issue 19, item 5),
/// on ILGPU's CPU accelerator: the payload is a device copy that the receiver copies into its own tensor and
/// frees; from the CPU backend the one receiver is lent a pinned pooled array, which a CPU receiver takes as its tensor
/// (no copy) and gives back with that tensor, and another receiver copies and gives back at once; a message with
/// several receivers gets a host copy of its own; and whole runs on
/// the device learn as on the CPU backend. And a local layer keeps no activation past its update on a backend
/// that gives freed memory back at once, while on the CPU backend (whose freed arrays would only wait for the
/// garbage collector) it keeps its buffers from step to step.
/// </summary>
public sealed class DeviceMessageTests() : Akka.TestKit.Xunit2.TestKit(ActorTestConfig.Patient)
{
    private static readonly NetworkSpec Spec = Presets.Mlp(6, [5, 4], "clapp++");

    private (IActorRef Layer, Akka.TestKit.TestProbe Above) Layer(IComputeBackend backend) => Layer(backend, CreateTestProbe());

    private (IActorRef Layer, Akka.TestKit.TestProbe Above) Layer(IComputeBackend backend, Akka.TestKit.TestProbe driver)
    {
        var above = CreateTestProbe();
        var shape = NetworkValidator.Validate(Spec)[0];
        var optimizer = new AdamWSettings(1e-3f);
        var setup = new LayerSetup("fc1", backend, new LayerBlock(backend, shape, new RandomStream(1, 0)),
            new LateralRule(backend, shape.LossFeatures.Size, null, new RandomStream(1, 1000), optimizer),
            GraphWiring.Local(Spec), optimizer, driver.Ref);
        var layer = Sys.ActorOf(Props.Create(() => new LocalLayerActor(setup)));
        layer.Tell(new Connect(ImmutableDictionary<string, IActorRef>.Empty.Add("fc2", above.Ref).Add("input", CreateTestProbe().Ref)));
        return (layer, above);
    }

    private static Forward Batch(long step = 0) =>
        new("input", step, TensorPayload.Copy(Enumerable.Range(0, 4 * 6).Select(i => MathF.Sin(i + step)).ToArray(), 4, 6), TraceContext.None);

    /// <summary>Two steps of the layer; the activation bytes its backend held after each forward pass, and after the last update.</summary>
    private long ActivationBytesAfterEachStep(IComputeBackend backend, List<long> afterForward)
    {
        var driver = CreateTestProbe();
        var (layer, above) = Layer(backend, driver);
        long after = 0;
        for (long step = 0; step < 2; step++)
        {
            layer.Tell(Batch(step));
            _ = above.ExpectMsg<Forward>().Activations.Values; // the receiver's part: a device copy is freed once read
            afterForward.Add(backend.PeakTensorBytesByKind[TensorKind.Activations]);
            layer.Tell(new Pairing("input", step, [3, 2, 1, 0], TraceContext.None));
            Assert.Equal(step, driver.ExpectMsg<StepDone>().Step);
            after = ((ComputeBackend)backend).LiveTensorBytesByKind[TensorKind.Activations];
        }
        Sys.Stop(layer);
        return after;
    }

    [Fact]
    public void On_a_device_that_frees_at_once_a_layer_keeps_no_activation_past_its_update()
    {
        using var backend = IlgpuBackend.Create("ilgpu-cpu");
        Assert.True(backend.FreesOnDispose);
        var kept = new List<long>();
        Assert.Equal(0, ActivationBytesAfterEachStep(backend, kept));
        Assert.All(kept, bytes => Assert.True(bytes > 0)); // the input, pre- and post-activation were held for the update
    }

    [Fact]
    public void On_the_cpu_backend_a_layer_keeps_its_buffers_from_step_to_step()
    {
        using var backend = new CpuBackend(threads: 1);
        Assert.False(backend.FreesOnDispose);
        Assert.True(ActivationBytesAfterEachStep(backend, []) > 0);
    }

    [Fact]
    public void A_layer_hands_its_output_to_the_one_layer_above_on_the_device()
    {
        using var sender = IlgpuBackend.Create("ilgpu-cpu");
        using var receiver = IlgpuBackend.Create("ilgpu-cpu");
        var (layer, above) = Layer(sender);
        layer.Tell(Batch());
        var payload = above.ExpectMsg<Forward>().Activations;
        Assert.True(payload.IsOnDevice);
        long heldBySender = sender.LiveTensorBytes;
        using var destination = receiver.Allocate(payload.Shape);
        payload.CopyTo(receiver, destination);
        Assert.False(payload.IsOnDevice); // the receiver's copy freed the payload's
        Assert.Equal(heldBySender - payload.Bytes, sender.LiveTensorBytes);
        // Read again, the payload says its values went to its one receiver (it once failed with a null reference).
        Assert.Contains("handed to its one receiver", Assert.Throws<InvalidOperationException>(() => payload.Values.Length).Message);
        // The values are the layer's output: the same layer on the CPU backend sends them through the host.
        using var cpu = new CpuBackend(threads: 1);
        var (cpuLayer, cpuAbove) = Layer(cpu);
        cpuLayer.Tell(Batch());
        var hostPayload = cpuAbove.ExpectMsg<Forward>().Activations;
        Assert.False(hostPayload.IsOnDevice);
        var got = destination.ToArray();
        var want = hostPayload.Values.ToArray();
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], got[i], 5);
    }

    [Fact]
    public void A_device_payload_read_on_the_host_is_brought_there_once_and_freed_on_the_device()
    {
        using var backend = IlgpuBackend.Create("ilgpu-cpu");
        var (layer, above) = Layer(backend);
        layer.Tell(Batch());
        var payload = above.ExpectMsg<Forward>().Activations;
        long before = backend.LiveTensorBytes;
        var values = payload.Values.ToArray();
        Assert.False(payload.IsOnDevice);
        Assert.Equal(before - payload.Bytes, backend.LiveTensorBytes);
        Assert.Equal(values, payload.Values.ToArray());
        // A CPU-backend receiver cannot take it on the device: it gets the host values.
        using var cpu = new CpuBackend(threads: 1);
        using var destination = cpu.Allocate(payload.Shape);
        payload.CopyTo(cpu, destination);
        Assert.Equal(values, destination.ToArray());
    }

    [Fact]
    public void A_cpu_layer_lends_the_one_layer_above_a_pooled_array_that_its_copy_gives_back()
    {
        using var backend = new CpuBackend(threads: 1);
        var (layer, above) = Layer(backend);
        layer.Tell(Batch());
        var payload = above.ExpectMsg<Forward>().Activations;
        Assert.True(payload.IsLent);
        Assert.False(payload.IsOnDevice);
        var values = payload.Values.ToArray();
        Assert.Equal(payload.Shape.Length, values.Length); // only the tensor's values are read
        using var destination = backend.Allocate(payload.Shape);
        payload.CopyTo(backend, destination);
        Assert.False(payload.IsLent);
        Assert.Equal(values, destination.ToArray());
        // The array is back in the pool: reading the payload again is refused rather than reading a reused array.
        var error = Assert.Throws<InvalidOperationException>(() => payload.Values.Length);
        Assert.Contains("handed to its one receiver", error.Message);
    }

    [Fact]
    public void A_cpu_receiver_takes_the_lent_array_as_its_tensor_without_a_copy()
    {
        using var backend = new CpuBackend(threads: 1);
        using var tensor = backend.Upload(Enumerable.Range(0, 1_021).Select(i => i * 0.25f).ToArray(), new Shape(1, 1_021));
        var payload = TensorPayload.Lent(tensor);
        var values = payload.Values.ToArray();
        using var receiver = new CpuBackend(threads: 1);
        using var taken = payload.HandOver(receiver);
        Assert.NotNull(taken);
        Assert.Same(receiver, taken.Backend);
        Assert.Equal(values, taken.ToArray());
        Assert.False(payload.IsLent);
        var error = Assert.Throws<InvalidOperationException>(() => payload.Values.Length);
        Assert.Contains("handed to its one receiver", error.Message);
        Assert.Null(payload.HandOver(receiver)); // once
    }

    [Fact]
    public void A_device_receiver_or_a_payload_not_lent_is_not_handed_an_array_and_copies()
    {
        using var backend = new CpuBackend(threads: 1);
        using var tensor = backend.Upload([1f, 2f, 3f, 4f, 5f, 6f], new Shape(2, 3));
        using var device = IlgpuBackend.Create("ilgpu-cpu");
        var lent = TensorPayload.Lent(tensor);
        Assert.Null(lent.HandOver(device));
        Assert.True(lent.IsLent);
        using var copy = device.Allocate(tensor.Shape);
        lent.CopyTo(device, copy);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], copy.ToArray());
        Assert.False(lent.IsLent);
        var own = TensorPayload.From(tensor);
        Assert.Null(own.HandOver(backend));
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], own.Values.ToArray()); // still readable
    }

    [Fact]
    public void A_slot_takes_each_lent_payload_and_gives_the_last_one_back()
    {
        using var backend = new CpuBackend(threads: 1);
        using var sender = new CpuBackend(threads: 1);
        using var slot = new TensorSlot(backend, TensorKind.Activations);
        using var first = sender.Upload(Enumerable.Repeat(1f, 1_031).ToArray(), new Shape(1_031));
        using var second = sender.Upload(Enumerable.Repeat(2f, 1_031).ToArray(), new Shape(1_031));
        long before = backend.LiveTensorBytes;
        var one = slot.Load(TensorPayload.Lent(first));
        Assert.All(one.ToArray(), v => Assert.Equal(1f, v));
        Assert.Equal(before + 1_031 * sizeof(float), backend.LiveTensorBytes);
        int kept = HostArrays.KeptCount(1_031);
        long peak = backend.PeakTensorBytes;
        var two = slot.Load(TensorPayload.Lent(second));
        Assert.True(one.IsDisposed); // the first step's array went back to the pool when the next came
        Assert.Equal(kept + 1, HostArrays.KeptCount(1_031));
        Assert.All(two.ToArray(), v => Assert.Equal(2f, v));
        Assert.Equal(before + 1_031 * sizeof(float), backend.LiveTensorBytes);
        Assert.Equal(peak, backend.PeakTensorBytes); // the old input went before the new one was counted: never two at once
        // A payload of the values' own copy still goes through an upload into the slot's tensor.
        var three = slot.Load(TensorPayload.From(first));
        Assert.All(three.ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void A_device_slot_given_a_lent_payload_copies_it_into_a_tensor_of_its_own()
    {
        using var sender = new CpuBackend(threads: 1);
        using var device = IlgpuBackend.Create("ilgpu-cpu");
        using var slot = new TensorSlot(device, TensorKind.Activations);
        using var first = sender.Upload([1f, 2f, 3f], new Shape(3));
        using var second = sender.Upload([4f, 5f, 6f], new Shape(3));
        var one = slot.Load(TensorPayload.Lent(first));
        Assert.Equal([1f, 2f, 3f], one.ToArray());
        var two = slot.Load(TensorPayload.Lent(second));
        Assert.Equal([4f, 5f, 6f], two.ToArray());
        Assert.False(two.IsDisposed);
        Assert.Equal(3 * sizeof(float), device.LiveTensorBytes);
    }

    [Fact]
    public void A_message_with_two_receivers_carries_its_own_host_copy()
    {
        using var backend = new CpuBackend(threads: 1);
        var forward = ImmutableHashSet.Create(MessageKind.Forward);
        var wiring = new Wiring([new EdgeContract("a", "b", forward), new EdgeContract("a", "c", forward), new EdgeContract("x", "y", forward)]);
        var two = new Outbox("a", wiring);
        two.Connect(new Connect(ImmutableDictionary<string, IActorRef>.Empty.Add("b", CreateTestProbe().Ref).Add("c", CreateTestProbe().Ref)));
        var one = new Outbox("x", wiring);
        one.Connect(new Connect(ImmutableDictionary<string, IActorRef>.Empty.Add("y", CreateTestProbe().Ref)));
        using var tensor = backend.Upload([1f, 2f, 3f, 4f, 5f, 6f], new Shape(2, 3));
        var shared = two.Payload(MessageKind.Forward, tensor);
        Assert.False(shared.IsLent);
        using var first = backend.Allocate(tensor.Shape);
        shared.CopyTo(backend, first);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], shared.Values.ToArray()); // still readable by the second receiver
        Assert.True(one.Payload(MessageKind.Forward, tensor).IsLent);
    }

    [Theory]
    [InlineData("local", "clapp++")]
    [InlineData("backprop", "bp-infonce")]
    public async Task A_run_on_the_device_learns_as_on_the_cpu_backend(string graph, string rule)
    {
        var spec = Presets.Mlp(12, [8, 8, 6], rule);
        var options = new RunOptions(4, BatchSize: 4, Seed: 3, Graph: graph == "local" ? GraphKind.Local : GraphKind.Backprop) { Optimizer = new(1e-3f) };
        var device = await Simulation.RunAsync(spec, options, () => IlgpuBackend.Create("ilgpu-cpu"));
        var cpu = await Simulation.RunAsync(spec, options, () => new CpuBackend(threads: 1));
        Assert.Equal(cpu.Losses.Keys.Order(), device.Losses.Keys.Order());
        foreach (var (node, losses) in cpu.Losses)
        {
            Assert.Equal(losses.Length, device.Losses[node].Length);
            for (int step = 0; step < losses.Length; step++) Assert.Equal(losses[step], device.Losses[node][step], 4);
        }
    }
}
