using System.Collections.Immutable;
using Akka.Actor;
using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Compute.Ilgpu;
using Plastic.Rules;
using Plastic.Sim.Actors;
using Plastic.Sim.Blocks;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>
/// A local layer keeps no activation past its update on a backend that gives freed memory back at once
/// (ILGPU, here on its CPU accelerator), and keeps its buffers from step to step on the CPU backend, whose
/// freed arrays would only wait for the garbage collector.
/// </summary>
public sealed class LayerActivationReleaseTests() : Akka.TestKit.Xunit2.TestKit(ActorTestConfig.Patient)
{
    private static readonly NetworkSpec Spec = Presets.Mlp(6, [5, 4], "clapp++");

    private long ActivationBytesAfterEachStep(IComputeBackend backend, List<long> afterForward)
    {
        var driver = CreateTestProbe();
        var above = CreateTestProbe();
        var shape = NetworkValidator.Validate(Spec)[0];
        var optimizer = new AdamWSettings(1e-3f);
        var setup = new LayerSetup("fc1", backend, new LayerBlock(backend, shape, new RandomStream(1, 0)),
            new LateralRule(backend, shape.LossFeatures.Size, null, new RandomStream(1, 1000), optimizer),
            GraphWiring.Local(Spec), optimizer, driver.Ref);
        var layer = Sys.ActorOf(Props.Create(() => new LocalLayerActor(setup)));
        layer.Tell(new Connect(ImmutableDictionary<string, IActorRef>.Empty.Add("fc2", above.Ref).Add("input", CreateTestProbe().Ref)));
        long after = 0;
        for (long step = 0; step < 2; step++)
        {
            layer.Tell(new Forward("input", step, TensorPayload.Copy(Enumerable.Range(0, 4 * 6).Select(i => MathF.Sin(i + step)).ToArray(), 4, 6), TraceContext.None));
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
}
