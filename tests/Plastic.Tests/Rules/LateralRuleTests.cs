using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim.Blocks;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Rules;

/// <summary>The CLAPP++ lateral rule's updates are the gradients of its local loss.</summary>
public sealed class LateralRuleTests
{
    private readonly CpuBackend _b = new(threads: 2);
    private const int N = 4;
    private static readonly int[] Negatives = [5, 6, 7, 0, 1, 2, 3, 4];

    public static TheoryData<string, string> Layers() => new()
    {
        { "conv-pooled", "clapp++" }, { "linear", "clapp++" },
        { "conv-pooled", "clapp++/softplus" }, { "linear", "clapp++/linear" }, { "linear", "clapp++/softplus/fixed-b" },
        { "conv-pooled", "clapp++/gap" }, { "conv-pooled", "clapp" }, { "linear", "clapp++/either" }, { "conv-pooled", "clapp++/either/softplus" },
        { "linear", "clapp++/softplus/b-l2=0.3" },
    };

    private (LayerBlock block, Tensor input, int features, int? lossPool) Setup(string name)
    {
        var spec = name == "conv-pooled"
            ? new NetworkSpec("t", new InputSpec(2, 6, 6), [new LayerSpec("c", LayerKind.Conv, 3, MaxPool: 2, LossPool: 2)], [], "clapp++")
            : Presets.Mlp(6, [5], "clapp++");
        var shape = NetworkValidator.Validate(spec)[0];
        var block = new LayerBlock(_b, shape, new RandomStream(11, 0));
        var inputShape = name == "linear" ? new Shape(2 * N, 6) : new Shape(2 * N, 2, 6, 6);
        var input = _b.Upload(TestData.Normal(inputShape.Length, 5), inputShape);
        return (block, input, shape.LossFeatures.Size, spec.Layers[0].LossPool);
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Weight_and_B_updates_are_the_gradients_of_the_local_loss(string name, string ruleName)
    {
        var (block, input, features, lossPool) = Setup(name);
        using var _ = block; using var __ = input;
        // Learning rate 0 keeps B where it is, so the loss can be probed around the same point.
        var settings = ContrastiveSettings.Parse(ruleName).Settings;
        if (settings.GlobalPool && name == "conv-pooled") features = block.Weight.Shape[0];
        using var rule = new LateralRule(_b, features, lossPool, new RandomStream(11, 1), new AdamWSettings(0f), settings);
        // Scale B up so that some hinges are active and some silent.
        _b.Scale(rule.B, 8f, rule.B);
        using var dw = _b.Allocate(block.Weight.Shape);
        using var db = _b.Allocate(block.Bias!.Shape);

        // The reference c (every row's own features) is detached: the loss is differentiated with c
        // held at its value for the unperturbed weights, so the probes score against a fixed copy.
        block.Forward(input);
        using var scratch = _b.Allocate(block.Weight.Shape);
        rule.ComputeUpdate(block.ViewForRule(N, Negatives, null), scratch, null);
        using var reference = _b.Upload(rule.Loss.LastFeatures!.ToArray(), rule.Loss.LastFeatures!.Shape);
        double Loss()
        {
            block.Forward(input);
            return rule.Loss.Compute(block.Output, N, Negatives, out Tensor unused, reference);
        }

        block.Forward(input);
        double loss = rule.ComputeUpdate(block.ViewForRule(N, Negatives, null), dw, db);
        Assert.True(loss != 0, "the loss must be active for the check to mean anything");
        var w0 = block.Weight.ToArray();
        FiniteDifference.Check(w0, wv => { _b.Upload(wv, block.Weight); double l = Loss(); _b.Upload(w0, block.Weight); return l; }, dw.ToArray(), $"{name} {ruleName} dL/dW", step: 1e-3);

        // dL/dB: the rule applies it through AdamW; recompute it by the rule's own formula with a probe.
        var b0 = rule.B.ToArray();
        var analyticB = GradientOfB(rule, block, input);
        FiniteDifference.Check(b0, bv => { _b.Upload(bv, rule.B); double l = Loss(); _b.Upload(b0, rule.B); return l; }, analyticB, $"{name} {ruleName} dL/dB", step: 1e-3);
    }

    /// <summary>The dL/dB the rule computed in one step (it exposes the gradient it handed to its optimiser).</summary>
    private float[] GradientOfB(LateralRule rule, LayerBlock block, Tensor input)
    {
        block.Forward(input);
        using var w = _b.Allocate(block.Weight.Shape);
        using var bb = _b.Allocate(block.Bias!.Shape);
        rule.ComputeUpdate(block.ViewForRule(N, Negatives, null), w, bb);
        return rule.LastBGradient.ToArray();
    }

    [Fact]
    public void Rule_options_parse_and_unknown_ones_are_named()
    {
        Assert.Equal(("clapp++dfb", new ContrastiveSettings(ScoreFunction.Softplus, BMode.FixedRandom)), ContrastiveSettings.Parse("clapp++dfb/softplus/fixed-b"));
        Assert.Equal(("clapp++", new ContrastiveSettings()), ContrastiveSettings.Parse("clapp++"));
        Assert.Equal(("clapp", new ContrastiveSettings(GlobalPool: true, Either: true)), ContrastiveSettings.Parse("clapp"));
        Assert.Equal(("clapp", new ContrastiveSettings(GlobalPool: false, Either: true)), ContrastiveSettings.Parse("clapp/patches"));
        Assert.Equal(0.02, ContrastiveSettings.Parse("clapp++/b-l2=0.02").Settings.BDecay);
        Assert.Contains("lambda of 0 or more", Assert.Throws<ArgumentException>(() => ContrastiveSettings.Parse("clapp++/b-l2=-1")).Message);
        var e = Assert.Throws<ArgumentException>(() => ContrastiveSettings.Parse("clapp++/tanh"));
        Assert.Contains("unknown option 'tanh'", e.Message);
    }

    [Fact]
    public void A_fixed_b_stays_fixed_and_an_identity_b_is_the_identity()
    {
        var (block, input, features, lossPool) = Setup("linear");
        using var _ = block; using var __ = input;
        using var fixedB = new LateralRule(_b, features, lossPool, new RandomStream(1, 1), new AdamWSettings(1e-1f), new ContrastiveSettings(B: BMode.FixedRandom));
        using var identity = new LateralRule(_b, features, lossPool, new RandomStream(1, 1), new AdamWSettings(1e-1f), new ContrastiveSettings(B: BMode.Identity));
        var before = fixedB.B.ToArray();
        block.Forward(input);
        using var dw = _b.Allocate(block.Weight.Shape);
        fixedB.ComputeUpdate(block.ViewForRule(N, Negatives, null), dw, null);
        identity.ComputeUpdate(block.ViewForRule(N, Negatives, null), dw, null);
        Assert.Equal(before, fixedB.B.ToArray());
        var eye = identity.B.ToArray();
        for (int i = 0; i < features; i++)
            for (int j = 0; j < features; j++)
                Assert.Equal(i == j ? 1f : 0f, eye[i * features + j]);
    }

    [Fact]
    public void The_50_50_draws_depend_on_the_step_only_and_each_term_averages_over_its_own_samples()
    {
        var (block, input, features, lossPool) = Setup("linear");
        using var _ = block; using var __ = input;
        using var either = new LateralRule(_b, features, lossPool, new RandomStream(4, 1), new AdamWSettings(0f), new ContrastiveSettings(Either: true));
        using var both = new LateralRule(_b, features, lossPool, new RandomStream(4, 1), new AdamWSettings(0f));
        _b.Scale(either.B, 50f, either.B); _b.Scale(both.B, 50f, both.B);
        block.Forward(input);
        float[] Update(ILocalRule rule, long step)
        {
            using var dw = _b.Allocate(block.Weight.Shape);
            rule.ComputeUpdate(block.ViewForRule(N, Negatives, null, step), dw, null);
            return dw.ToArray();
        }
        Assert.Equal(Update(either, 7), Update(either, 7));
        var distinct = Enumerable.Range(0, 12).Select(step => string.Join(",", Update(either, step))).Distinct().Count();
        Assert.True(distinct > 1, "the draws must change from step to step");
        Assert.Equal(Update(both, 3), Update(both, 9));
    }

    [Fact]
    public void A_pairing_of_the_wrong_size_is_refused()
    {
        var (block, input, features, lossPool) = Setup("linear");
        using var _ = block; using var __ = input;
        using var rule = new LateralRule(_b, features, lossPool, new RandomStream(1, 1), new AdamWSettings(1e-3f));
        block.Forward(input);
        using var dw = _b.Allocate(block.Weight.Shape);
        var e = Assert.Throws<ArgumentException>(() => rule.ComputeUpdate(block.ViewForRule(N, new[] { 0, 1 }, null), dw, null));
        Assert.Contains("2 negatives for 8 rows", e.Message);
    }
}
