namespace Plastic.Topology;

/// <summary>
/// Networks of the paper (PAPER.md sections 2.7 and 4.1) and generic families, built in code.
/// Look-up by name: <see cref="Names"/>, <see cref="ByName"/>.
/// </summary>
public static class Presets
{
    /// <summary>The six VGG-6 blocks of [128, 256, M, 256, 512, M, 1024, M, 1024, M]: width and whether a 2x2 max-pool follows.</summary>
    private static readonly (int Width, bool Pool)[] Vgg6Blocks = [(128, false), (256, true), (256, false), (512, true), (1024, true), (1024, true)];

    /// <summary>
    /// VGG-6: 3x3 convs, stride 1, padding 1, bias, ReLU, 2x2 max-pools after blocks 2, 4, 5, 6. The loss
    /// pool per block gives the paper's pooled grid 8, 4, 4, 4, 2, 2 for 32, 64 and 96 pixel inputs
    /// (4-4-4-2-2-1, 8-8-8-4-4-2, 12-12-12-6-6-3; the CIFAR values are PAPER.md's reconstruction).
    /// With <paramref name="directFeedback"/> every lower block gets a top-down edge from block 6 (CLAPP++DFB).
    /// </summary>
    public static NetworkSpec Vgg6(int inputSize = 32, double widthMultiplier = 1.0, string rule = "clapp++", bool directFeedback = false)
    {
        if (inputSize % 16 != 0) throw new SpecException($"vgg6: input size {inputSize} must be a multiple of 16 (four 2x2 max-pools and a pooled grid).");
        if (widthMultiplier <= 0) throw new SpecException($"vgg6: width multiplier {widthMultiplier} must be positive.");
        int unit = inputSize / 8; // loss pool of block 1 for the 8x8 grid
        int[] lossPools = [unit, unit, unit, unit / 2, unit / 2, Math.Max(1, unit / 4)];
        var layers = Vgg6Blocks.Select((b, i) => new LayerSpec(
            $"block{i + 1}", LayerKind.Conv, Math.Max(1, (int)Math.Round(b.Width * widthMultiplier)),
            MaxPool: b.Pool ? 2 : null, LossPool: lossPools[i])).ToList();
        var feedback = directFeedback
            ? layers.Take(layers.Count - 1).Select(l => new EdgeSpec(layers[^1].Name, l.Name)).ToList()
            : [];
        string suffix = (widthMultiplier == 1.0 ? "" : $"-x{widthMultiplier:0.###}") + (directFeedback ? "-dfb" : "");
        return new NetworkSpec($"vgg6-{inputSize}px{suffix}", new InputSpec(3, inputSize, inputSize), layers, feedback, rule);
    }

    /// <summary>A fully connected network: <paramref name="inputs"/> -> widths[0] -> ... with ReLU and bias.</summary>
    public static NetworkSpec Mlp(int inputs, IReadOnlyList<int> widths, string rule = "clapp++", Activation activation = Activation.Relu, bool bias = true)
    {
        var layers = widths.Select((w, i) => new LayerSpec($"fc{i + 1}", LayerKind.Linear, w, Kernel: 1, Padding: 0, Activation: activation, Bias: bias)).ToList();
        return new NetworkSpec($"mlp-{inputs}-{string.Join("-", widths)}", new InputSpec(inputs), layers, [], rule);
    }

    /// <summary>
    /// The theory's deep linear network (PAPER.md 2.2): identity activations, no bias. The paper's
    /// Figure 2 net is 196 -> 128 x 6.
    /// </summary>
    public static NetworkSpec DeepLinear(int inputs = 196, int width = 128, int depth = 6, string rule = "clapp++") =>
        Mlp(inputs, Enumerable.Repeat(width, depth).ToList(), rule, Activation.Identity, bias: false) with { Name = $"deep-linear-{inputs}-{width}x{depth}" };

    public static readonly IReadOnlyList<string> Names = ["vgg6-cifar", "vgg6-cifar-small", "vgg6-cifar-small-dfb", "vgg6-tiny", "vgg6-stl10", "vgg6-cifar-dfb", "vgg6-stl10-dfb", "mlp-3", "deep-linear"];

    public static NetworkSpec ByName(string name) => name switch
    {
        "vgg6-cifar" => Vgg6(32),
        // The reduced-scale table of the experiments: 1/8 of the paper's widths.
        "vgg6-cifar-small" => Vgg6(32, 0.125),
        "vgg6-cifar-small-dfb" => Vgg6(32, 0.125, rule: "clapp++dfb", directFeedback: true),
        "vgg6-tiny" => Vgg6(64),
        "vgg6-stl10" => Vgg6(96),
        "vgg6-cifar-dfb" => Vgg6(32, rule: "clapp++dfb", directFeedback: true),
        "vgg6-stl10-dfb" => Vgg6(96, rule: "clapp++dfb", directFeedback: true),
        "mlp-3" => Mlp(784, [256, 256, 256]),
        "deep-linear" => DeepLinear(),
        _ => throw new SpecException($"network '{name}': not a preset (presets: {string.Join(", ", Names)}) nor a spec file."),
    };
}
