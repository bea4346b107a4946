using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Sim.Blocks;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>The layer block's backward pass against finite differences of its own forward pass.</summary>
public sealed class LayerBlockTests
{
    private readonly CpuBackend _b = new(threads: 2);

    public static TheoryData<string> Layers() => ["conv-relu-pool", "conv-identity", "linear-relu", "linear-from-image"];

    private static (NetworkSpec spec, int index) Case(string name) => name switch
    {
        "conv-relu-pool" => (new NetworkSpec("t", new InputSpec(3, 6, 6), [new LayerSpec("c", LayerKind.Conv, 4, MaxPool: 2)], [], "bp"), 0),
        "conv-identity" => (new NetworkSpec("t", new InputSpec(2, 5, 5), [new LayerSpec("c", LayerKind.Conv, 3, Kernel: 3, Stride: 2, Padding: 1, Activation: Activation.Identity, Bias: false)], [], "bp"), 0),
        "linear-relu" => (Presets.Mlp(7, [5]), 0),
        _ => (new NetworkSpec("t", new InputSpec(2, 4, 4), [new LayerSpec("c", LayerKind.Conv, 3, MaxPool: 2), new LayerSpec("fc", LayerKind.Linear, 5, Kernel: 1, Padding: 0)], [], "bp"), 1),
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void Backward_agrees_with_finite_differences(string name)
    {
        var (spec, index) = Case(name);
        var shape = NetworkValidator.Validate(spec)[index];
        using var block = new LayerBlock(_b, shape, new RandomStream(3, (ulong)index));
        const int n = 2;
        var x = TestData.Normal(n * shape.Input.Size, 1);
        var inputShape = shape.Input.Height > 1 ? new Shape(n, shape.Input.Channels, shape.Input.Height, shape.Input.Width) : new Shape(n, shape.Input.Size);
        using var tx = _b.Upload(x, inputShape);
        var output = block.Forward(tx);
        var dy = TestData.Normal(output.Length, 2);
        using var tdy = _b.Upload(dy, output.Shape);
        using var dw = _b.Allocate(block.Weight.Shape);
        using var db = block.Bias is null ? null : _b.Allocate(block.Bias.Shape);
        using var dx = _b.Allocate(inputShape);
        block.Backward(tdy, dw, db, dx);

        var w0 = block.Weight.ToArray();
        var b0 = block.Bias?.ToArray();
        double Loss(float[] xv, float[] wv, float[]? bv)
        {
            _b.Upload(wv, block.Weight);
            if (bv is not null) _b.Upload(bv, block.Bias!);
            using var t = _b.Upload(xv, inputShape);
            double loss = _b.Dot(block.Forward(t), tdy);
            _b.Upload(w0, block.Weight);
            if (b0 is not null) _b.Upload(b0, block.Bias!);
            return loss;
        }
        FiniteDifference.Check(x, xv => Loss(xv, w0, b0), dx.ToArray(), $"{name} dL/dx", step: 1e-3);
        FiniteDifference.Check(w0, wv => Loss(x, wv, b0), dw.ToArray(), $"{name} dL/dW", step: 1e-3);
        if (b0 is not null) FiniteDifference.Check(b0, bv => Loss(x, w0, bv), db!.ToArray(), $"{name} dL/db", step: 1e-3);
    }

    [Fact]
    public void Initialisation_is_pytorchs_default_and_reproducible_from_the_seed()
    {
        var shape = NetworkValidator.Validate(Presets.Vgg6(32, 0.125))[1]; // 16 -> 32 channels, fan_in 144
        using var a = new LayerBlock(_b, shape, new RandomStream(7, 2));
        using var b = new LayerBlock(_b, shape, new RandomStream(7, 2));
        using var c = new LayerBlock(_b, shape, new RandomStream(7, 3));
        var wa = a.Weight.ToArray();
        Tolerance.AssertBitIdentical(wa, b.Weight.ToArray(), "same seed and layer");
        Assert.NotEqual(wa, c.Weight.ToArray());
        float bound = 1f / MathF.Sqrt(144);
        Assert.All(wa, v => Assert.InRange(v, -bound, bound));
        Assert.True(wa.Max() > 0.9f * bound && wa.Min() < -0.9f * bound);
    }

    [Fact]
    public void A_batch_of_the_wrong_size_is_refused_with_the_layer_name()
    {
        var shape = NetworkValidator.Validate(Presets.Mlp(7, [5]))[0];
        using var block = new LayerBlock(_b, shape, new RandomStream(1, 1));
        using var wrong = _b.Allocate(new Shape(2, 8));
        var e = Assert.Throws<ShapeMismatchException>(() => block.Forward(wrong));
        Assert.Contains("'fc1'", e.Message);
    }
}
