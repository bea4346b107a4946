using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim.Blocks;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Rules;

/// <summary>
/// The contrastive rules form their update explicitly (modulator x dendritic prediction, routed through
/// the layer's pools and ReLU mask, x presynaptic input); it must equal the gradient of the same local
/// loss taken through the layer's backprop machinery (LayerBlock.Backward), for conv and linear layers,
/// average and max pooling, and lateral, direct-feedback and both references.
/// </summary>
public sealed class ThreeFactorTests
{
    private readonly CpuBackend _b = new(threads: 2);
    private const int N = 4;
    private static readonly int[] Negatives = [5, 6, 7, 0, 1, 2, 3, 4];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var layer in new[] { "conv-avg-max", "conv-avg", "conv-max-global", "linear" })
            foreach (var rule in new[] { "clapp++", "clapp++dfb", "clapp++both", "clapp++/softplus", "clapp++dfb/linear" })
                data.Add(layer, rule);
        data.Add("conv-avg-max", "clapp");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_explicit_update_equals_the_backprop_gradient_of_the_local_loss(string layer, string ruleName)
    {
        var spec = layer switch
        {
            "linear" => Presets.Mlp(6, [5], "clapp++"),
            "conv-avg-max" => Conv(new LayerSpec("c", LayerKind.Conv, 3, MaxPool: 2, LossPool: 2)),
            "conv-avg" => Conv(new LayerSpec("c", LayerKind.Conv, 3, LossPool: 3)),
            _ => Conv(new LayerSpec("c", LayerKind.Conv, 3, MaxPool: 2)),
        };
        var (rule, settings) = ContrastiveSettings.Parse(ruleName);
        if (layer == "conv-max-global") settings = settings with { GlobalPool = true };
        var shape = NetworkValidator.Validate(spec)[0];
        using var block = new LayerBlock(_b, shape, new RandomStream(11, 0));
        var inputShape = layer == "linear" ? new Shape(2 * N, 6) : new Shape(2 * N, 2, 6, 6);
        using var input = _b.Upload(TestData.Normal(inputShape.Length, 5), inputShape);
        int features = settings.GlobalPool && layer != "linear" ? 3 : shape.LossFeatures.Size;
        int? lossPool = shape.Layer.LossPool;
        const int referenceFeatures = 7;
        using var reference = _b.Upload(TestData.Normal(2 * N * referenceFeatures, 6), new Shape(2 * N, referenceFeatures));
        var init = new RandomStream(21, 3);
        var noStep = new AdamWSettings(0f);

        using ILocalRule local = rule switch
        {
            "clapp++" or "clapp" => new LateralRule(_b, features, lossPool, init, noStep, settings),
            "clapp++dfb" => new DirectFeedbackRule(_b, features, referenceFeatures, lossPool, init, noStep, settings),
            _ => new BothRule(_b, features, referenceFeatures, lossPool, init, noStep, settings),
        };
        // The same losses (same B, same options), differentiated the backprop way.
        var twins = rule switch
        {
            "clapp++" or "clapp" => new[] { (new ContrastiveLoss(_b, features, lossPool, init, noStep, settings: settings), (Tensor?)null) },
            "clapp++dfb" => [(new ContrastiveLoss(_b, features, lossPool, init, noStep, referenceFeatures, settings), reference)],
            _ => [(new ContrastiveLoss(_b, features, lossPool, init.Derive(0), noStep, settings: settings), null),
                  (new ContrastiveLoss(_b, features, lossPool, init.Derive(1), noStep, referenceFeatures, settings), reference)],
        };
        foreach (var (twin, _) in twins) { _b.Scale(twin.B, 8f, twin.B); }
        foreach (var b in LossMatrices(local)) _b.Scale(b, 8f, b);

        block.Forward(input);
        using var dwRule = _b.Allocate(block.Weight.Shape);
        using var dbRule = _b.Allocate(block.Bias!.Shape);
        local.ComputeUpdate(block.ViewForRule(N, Negatives, rule == "clapp++" || rule == "clapp" ? null : reference, step: 3), dwRule, dbRule);

        using var gradOutput = _b.Allocate(block.Output.Shape);
        _b.Fill(gradOutput, 0f);
        foreach (var (twin, c) in twins)
        {
            twin.Compute(block.Output, N, Negatives, out var g, c, step: 3);
            _b.Add(gradOutput, g, gradOutput);
        }
        using var dwBp = _b.Allocate(block.Weight.Shape);
        using var dbBp = _b.Allocate(block.Bias!.Shape);
        block.Backward(gradOutput, dwBp, dbBp, gradInput: null);

        var expected = dwBp.ToArray();
        Assert.Contains(expected, v => v != 0);
        Tolerance.AssertClose(expected, dwRule.ToArray(), what: $"{layer} {ruleName} dW");
        Tolerance.AssertClose(dbBp.ToArray(), dbRule.ToArray(), what: $"{layer} {ruleName} db");
        foreach (var (twin, _) in twins) twin.Dispose();
    }

    private static NetworkSpec Conv(LayerSpec layer) => new("t", new InputSpec(2, 6, 6), [layer], [], "clapp++");

    private static IEnumerable<Tensor> LossMatrices(ILocalRule rule) => rule switch
    {
        LateralRule l => [l.B],
        DirectFeedbackRule d => [d.B],
        BothRule b => [b.LateralB, b.SecondB],
        _ => [],
    };
}
