using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim.Blocks;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Rules;

/// <summary>Forward-Forward and SCFF: the loss by hand on a tiny case, and updates that are the gradients of the loss.</summary>
public sealed class GoodnessRuleTests
{
    private readonly CpuBackend _b = new(threads: 1);
    private const int N = 4;
    private static readonly int[] Negatives = [6, 7, 4, 5, 2, 3, 0, 1];

    [Fact]
    public void The_losses_match_their_definitions_on_a_tiny_case()
    {
        // Two rows (one positive, one negative), two channels, one position; the negative's second unit is silent.
        float[] a = [1, 2, 3, -1];
        double Sp(double x) => Math.Log(1 + Math.Exp(x));
        var (scff, _) = GoodnessLoss.Evaluate(a, 2, 2, 1, 1, GoodnessPairs.SelfContrastive, 2, 3, 0);
        Assert.Equal(Sp(2 - (1 + 4) / 2.0) + Sp((9 + 0) / 2.0 - 3), scff, 1e-12);
        var (ff, _) = GoodnessLoss.Evaluate(a, 2, 2, 1, 1, GoodnessPairs.ForwardForward, 4, 4, 0);
        Assert.Equal(0.5 * (Sp(4 - 5.0) + Sp(9.0 - 4)), ff, 1e-12);
        var (withPenalty, _) = GoodnessLoss.Evaluate(a, 2, 2, 1, 1, GoodnessPairs.SelfContrastive, 2, 3, 0.1);
        Assert.Equal(scff + 0.1 * 2.5, withPenalty, 1e-12);
    }

    public static TheoryData<string, string> Cases() => new()
    {
        { "linear", "ff" }, { "conv-maxpool", "ff" }, { "linear", "scff" }, { "conv-maxpool", "scff" },
        { "conv-maxpool", "scff/th1=0.5/th2=1/lambda=0.01" }, { "linear", "ff/theta=0.3" },
    };

    /// <summary>The goodness loss is C^1 in the weights (G = sum ReLU(a)^2), so every probe is checked: no kink skipping.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Weight_and_bias_updates_are_the_gradients_of_the_goodness_loss(string layer, string ruleName)
    {
        var spec = layer == "linear"
            ? Presets.Mlp(6, [5], ruleName)
            : new NetworkSpec("t", new InputSpec(2, 6, 6), [new LayerSpec("c", LayerKind.Conv, 3, MaxPool: 2)], [], ruleName);
        var shape = NetworkValidator.Validate(spec)[0];
        using var block = new LayerBlock(_b, shape, new RandomStream(11, 0));
        var inputShape = layer == "linear" ? new Shape(2 * N, 6) : new Shape(2 * N, 2, 6, 6);
        using var input = _b.Upload(TestData.Normal(inputShape.Length, 5), inputShape);
        var (pairs, settings) = GoodnessSettings.Parse(ruleName);
        using var rule = new GoodnessRule(_b, pairs, settings);
        using var dw = _b.Allocate(block.Weight.Shape);
        using var db = _b.Allocate(block.Bias!.Shape);

        double Loss()
        {
            block.Forward(input);
            using var w = _b.Allocate(block.Weight.Shape);
            using var b = _b.Allocate(block.Bias!.Shape);
            return rule.ComputeUpdate(block.ViewForRule(N, Negatives, null), w, b);
        }

        block.Forward(input);
        double loss = rule.ComputeUpdate(block.ViewForRule(N, Negatives, null), dw, db);
        Assert.True(loss > 0);
        Assert.Contains(dw.ToArray(), v => v != 0);
        var w0 = block.Weight.ToArray();
        FiniteDifference.Check(w0, wv => { _b.Upload(wv, block.Weight); double l = Loss(); _b.Upload(w0, block.Weight); return l; }, dw.ToArray(), $"{layer} {ruleName} dL/dW", step: 1e-3, smooth: true);
        var b0 = block.Bias!.ToArray();
        FiniteDifference.Check(b0, bv => { _b.Upload(bv, block.Bias!); double l = Loss(); _b.Upload(b0, block.Bias!); return l; }, db.ToArray(), $"{layer} {ruleName} dL/db", step: 1e-3, smooth: true);
    }

    [Fact]
    public void Options_parse_and_bad_ones_are_named()
    {
        Assert.Equal((GoodnessPairs.SelfContrastive, new GoodnessSettings(5, 9)), GoodnessSettings.Parse("scff"));
        Assert.Equal((GoodnessPairs.ForwardForward, new GoodnessSettings(2, 2)), GoodnessSettings.Parse("ff/theta=2"));
        Assert.Equal((GoodnessPairs.SelfContrastive, new GoodnessSettings(1, 9, 0.5)), GoodnessSettings.Parse("scff/th1=1/lambda=0.5"));
        Assert.Contains("unknown option 'tau'", Assert.Throws<ArgumentException>(() => GoodnessSettings.Parse("ff/tau=1")).Message);
        Assert.Contains("name=number", Assert.Throws<ArgumentException>(() => GoodnessSettings.Parse("scff/th1")).Message);
        Assert.Contains("must not be negative", Assert.Throws<ArgumentException>(() => GoodnessSettings.Parse("scff/lambda=-1")).Message);
    }
}
