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

    /// <summary>
    /// A ReLU behind a max-pool is applied after the pool (one pass less over the activation): the output and the
    /// pre-activation gradient must be what the ReLU, then the pool, then their fused backward give, bit for bit,
    /// with windows whose maximum is negative and windows of ties (a blank image region: every pre-activation there
    /// is the bias, positive for some channels and negative for others).
    /// </summary>
    [Fact]
    public void A_pooled_relu_gives_what_relu_then_pool_gives_bit_for_bit()
    {
        var (spec, _) = Case("conv-relu-pool");
        var shape = NetworkValidator.Validate(spec)[0];
        using var block = new LayerBlock(_b, shape, new RandomStream(5, 1));
        _b.Upload([0.3f, -0.2f, 0.1f, -0.4f], block.Bias!);
        const int n = 3;
        var x = TestData.Normal(n * shape.Input.Size, 4);
        for (int i = 0; i < 2 * 36; i++) x[i] = 0f;   // the first image's first two channels blank
        for (int i = 0; i < 36; i++) x[2 * 36 + i] = 0f;   // and its third: a blank image
        var inputShape = new Shape(n, 3, 6, 6);
        using var tx = _b.Upload(x, inputShape);
        var output = block.Forward(tx).ToArray();
        var dy = TestData.Normal(output.Length, 5);
        using var tdy = _b.Upload(dy, block.Output.Shape);
        var gradPre = block.GradientOfPreActivation(tdy).ToArray();

        using var pre = _b.Allocate(block.PreActivation.Shape);
        _b.Conv2dForward(tx, block.Weight, block.Bias, pre, new ConvGeometry(3, 1, 1));
        using var post = _b.Allocate(pre.Shape);
        _b.Relu(pre, post);
        using var pooled = _b.Allocate(block.Output.Shape);
        using var argmax = _b.AllocateIndices(pooled.Shape);
        _b.MaxPool2dForward(post, pooled, argmax, new PoolGeometry(2));
        using var expectedGrad = _b.Allocate(pre.Shape);
        _b.MaxPool2dReluBackward(tdy, argmax, post, expectedGrad, new PoolGeometry(2));

        Assert.Contains(pre.ToArray(), v => v < 0);
        Tolerance.AssertBitIdentical(pooled.ToArray(), output, "output");
        Tolerance.AssertBitIdentical(expectedGrad.ToArray(), gradPre, "dL/d(pre-activation)");
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
