using Plastic.Topology;

namespace Plastic.Sim.Theory;

/// <summary>
/// The paper's theory figures as coded (PAPER.md 2.7): Figure 2 (which assumptions matter), Figure 3a
/// (shrinking widths, lateral vs direct feedback) and Figure 4b (linear CNN, 2D spatial dependence).
/// f is the theory's "logsig" (softplus(1 - u_pos) + softplus(1 + u_neg): our /softplus) unless a
/// curve says linear.
/// </summary>
public static class TheoryFigures
{
    public static readonly IReadOnlyList<string> Names = ["fig2", "fig3a", "fig4b"];

    /// <summary>The lambda of (lambda/2)|B|^2, the same at every layer and in the backprop loss (PAPER.md 2.3 condition c).</summary>
    public const double DefaultLambda = 0.02;

    public static TheoryFigure ByName(string name, double lambda = DefaultLambda) => name switch
    {
        "fig2" => Figure2(lambda),
        "fig3a" => Figure3a(lambda),
        "fig4b" => Figure4b(lambda),
        _ => throw new ArgumentException($"Unknown theory experiment '{name}'. Experiments: {string.Join(", ", Names)}."),
    };

    /// <summary>Linear MLP 196 -> 128 x 6, no bias, on 14x14 MNIST patch pairs (top and bottom patch of a column).</summary>
    public static TheoryFigure Figure2(double lambda)
    {
        NetworkSpec Net(Activation activation) =>
            Presets.Mlp(196, Enumerable.Repeat(128, 6).ToList(), "clapp++/softplus", activation, bias: false) with { Name = "mlp-196-128x6" };
        return new TheoryFigure("fig2", "Figure 2: which assumptions matter (linear MLP 196 -> 128 x 6)",
        [
            new("all assumptions", Net(Activation.Identity), Orthogonal: true, OptimalB: true),
            new("random fixed B", Net(Activation.Identity), Orthogonal: true, OptimalB: false),
            new("non-orthogonal W", Net(Activation.Identity), Orthogonal: false, OptimalB: true),
            new("ReLU", Net(Activation.Relu), Orthogonal: true, OptimalB: true),
            new("non-orthogonal W, ReLU", Net(Activation.Relu), Orthogonal: false, OptimalB: true),
        ], new InputSpec(196), lambda, "mnist-patches");
    }

    /// <summary>Widths 196 -> 128 -> 64 -> 32 -> 16 -> 8 -> 4, semi-orthogonal, f linear or softplus, lateral or direct feedback from the top.</summary>
    public static TheoryFigure Figure3a(double lambda)
    {
        int[] widths = [128, 64, 32, 16, 8, 4];
        NetworkSpec Net(string f, bool feedback)
        {
            var spec = Presets.Mlp(196, widths, (feedback ? "clapp++dfb/" : "clapp++/") + f, Activation.Identity, bias: false) with { Name = "mlp-196-shrinking" };
            return feedback ? spec with { Feedback = spec.Layers.SkipLast(1).Select(l => new EdgeSpec(spec.Layers[^1].Name, l.Name)).ToList() } : spec;
        }
        return new TheoryFigure("fig3a", "Figure 3a: shrinking widths, lateral vs direct feedback",
        [
            new("linear f, lateral", Net("linear", false), true, true),
            new("linear f, DFB", Net("linear", true), true, true),
            new("softplus f, lateral", Net("softplus", false), true, true),
            new("softplus f, DFB", Net("softplus", true), true, true),
        ], new InputSpec(196), lambda, "mnist-patches");
    }

    /// <summary>
    /// Linear CNN: 4 conv layers, kernel 2, stride 2, no bias, orthogonal, on 16x16 two-view crops. The
    /// paper's net has 32 channels everywhere, so each layer maps 4 times more numbers than it emits
    /// (2048 -> 512 -> 128 -> 32): semi-orthogonal, where Theorem 3.1 does not promise equality. The
    /// "square" curves widen the channels 4 times per layer (4, 16, 64, 256: 256 numbers at every
    /// layer), which makes every layer an orthogonal operator on (position x channel) space: the
    /// setting where Proposition 3.5 (k = 1 is exact) can hold.
    /// </summary>
    public static TheoryFigure Figure4b(double lambda)
    {
        NetworkSpec Net(int[] channels, int[] pools, bool feedback)
        {
            var layers = pools.Select((k, i) => new LayerSpec($"c{i + 1}", LayerKind.Conv, channels[i], Kernel: 2, Stride: 2, Padding: 0,
                Activation: Activation.Identity, LossPool: k, Bias: false)).ToList();
            var spec = new NetworkSpec($"linear-cnn-{string.Join("-", channels)}", new InputSpec(1, 16, 16), layers, [], feedback ? "clapp++dfb/softplus" : "clapp++/softplus");
            return feedback ? spec with { Feedback = layers.SkipLast(1).Select(l => new EdgeSpec(layers[^1].Name, l.Name)).ToList() } : spec;
        }
        int[] paper = [32, 32, 32, 32], square = [4, 16, 64, 256];
        return new TheoryFigure("fig4b", "Figure 4b: linear CNN, 2D spatial dependence",
        [
            new("32 ch: no 2D spatial dependence (global pools 8,4,2,1)", Net(paper, [8, 4, 2, 1], false), true, true),
            new("32 ch: 2D spatial dependence (pools 2,1,1,1)", Net(paper, [2, 1, 1, 1], false), true, true),
            new("32 ch: 2D spatial dependence + DFB (pools 2,1,1,1)", Net(paper, [2, 1, 1, 1], true), true, true),
            new("square: no 2D spatial dependence (global pools)", Net(square, [8, 4, 2, 1], false), true, true),
            new("square: 2D spatial dependence, k = 1", Net(square, [1, 1, 1, 1], false), true, true),
        ], new InputSpec(1, 16, 16), lambda, "mnist-crops");
    }
}
