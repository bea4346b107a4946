using Plastic.Compute;
using Plastic.Compute.Cpu;

namespace Plastic.Tests.Compute;

/// <summary>
/// A tally shared by several backends sees what they hold at one moment: two nodes that peak one after the
/// other hold the larger of their peaks together, where the sum of their separate peaks counts both.
/// </summary>
public sealed class TensorTallyTests
{
    [Fact]
    public void A_shared_tally_sees_the_simultaneous_peak_of_backends_that_peak_in_turn()
    {
        var together = new TensorTally();
        using var a = new CpuBackend(threads: 1);
        using var b = new CpuBackend(threads: 1);
        a.AlsoCountIn(together);
        b.AlsoCountIn(together);
        using var weightsA = a.Allocate(new Shape(100)); // 400 bytes, kept throughout
        using (TensorKinds.Use(TensorKind.Activations))
        {
            using (a.Allocate(new Shape(1000))) { } // A's activations: 4,000 bytes, freed before B's
            using (b.Allocate(new Shape(500))) { }  // B's: 2,000 bytes
        }
        Assert.Equal(4400 + 2000, a.PeakTensorBytes + b.PeakTensorBytes);
        Assert.Equal(4400, together.PeakBytes);
        Assert.Equal(4000, together.PeakBytesByKind[TensorKind.Activations]);
        Assert.Equal(400, together.LiveBytes);
        Assert.Equal(400, together.LiveBytesByKind.Values.Sum());
    }
}
