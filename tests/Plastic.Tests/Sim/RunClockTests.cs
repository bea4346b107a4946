using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>What a run's clock (its elapsed time, hence its images/s) covers.</summary>
public sealed class RunClockTests
{
    private static readonly NetworkSpec Conv = new("conv2", new InputSpec(2, 8, 8),
    [
        new LayerSpec("c1", LayerKind.Conv, 4),
        new LayerSpec("c2", LayerKind.Conv, 6, LossPool: 2),
    ], [], "clapp++");

    /// <summary>
    /// Building a node is not training: the driver's layers are built before the clock starts, so a node built
    /// with the others (here the backprop graph's loss node, whose backend takes two seconds to make) must not
    /// count either. Until 2026-12-04 it did, as did the layers a worker built for a cluster run.
    /// </summary>
    [Fact]
    public async Task The_clock_starts_once_every_node_is_built()
    {
        var building = TimeSpan.FromSeconds(2);
        int made = 0;
        IComputeBackend SlowAfterTheLayers()
        {
            // One backend per layer first (made before the clock in any version), then the loss node's.
            if (Interlocked.Increment(ref made) > Conv.Layers.Count) Thread.Sleep(building);
            return new CpuBackend(threads: 1);
        }

        var result = await Simulation.RunAsync(Conv, new RunOptions(2, BatchSize: 4, Graph: GraphKind.Backprop), SlowAfterTheLayers);

        Assert.Equal(Conv.Layers.Count + 1, made);
        Assert.True(result.Elapsed < building, $"the run's clock read {result.Elapsed.TotalSeconds:F2} s: it counted the {building.TotalSeconds:F0} s the loss node took to build");
    }
}
