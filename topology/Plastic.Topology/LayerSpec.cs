namespace Plastic.Topology;

public enum LayerKind { Conv, Linear }

public enum Activation { Relu, Identity }

/// <summary>
/// One block of the network: a convolution (kernel, stride, zero padding) or a linear map, a
/// non-linearity, an optional max-pool, and the window of the average pool applied before the
/// layer's loss (CLAPP++'s "2D spatial dependence": k x k patches; null = no pooling). Rule names the
/// learning rule of this layer; null takes the network's.
/// </summary>
public sealed record LayerSpec(
    string Name,
    LayerKind Kind,
    int Width,
    int Kernel = 3,
    int Stride = 1,
    int Padding = 1,
    Activation Activation = Activation.Relu,
    int? MaxPool = null,
    int? LossPool = null,
    bool Bias = true,
    string? Rule = null);

/// <summary>The input to layer 1: an image (channels x height x width) or a vector (height = width = 1).</summary>
public sealed record InputSpec(int Channels, int Height = 1, int Width = 1)
{
    public bool IsImage => Height > 1 || Width > 1;
    public override string ToString() => IsImage ? $"{Channels}x{Height}x{Width}" : $"{Channels}";
}

public enum EdgeKind { Forward, DirectFeedback }

/// <summary>
/// A declared edge. Forward edges join consecutive layers and are implied; direct-feedback edges
/// (a top-down reference from a higher layer to a lower one) must be declared.
/// </summary>
public sealed record EdgeSpec(string From, string To, EdgeKind Kind = EdgeKind.DirectFeedback);

/// <summary>A whole network: its input, its layers bottom to top, the declared feedback edges and the default rule.</summary>
public sealed record NetworkSpec(string Name, InputSpec Input, IReadOnlyList<LayerSpec> Layers, IReadOnlyList<EdgeSpec> Feedback, string Rule)
{
    public string RuleOf(LayerSpec layer) => layer.Rule ?? Rule;

    /// <summary>All edges: the implied forward chain, then the declared feedback.</summary>
    public IEnumerable<EdgeSpec> Edges()
    {
        for (int i = 1; i < Layers.Count; i++) yield return new EdgeSpec(Layers[i - 1].Name, Layers[i].Name, EdgeKind.Forward);
        foreach (var e in Feedback) yield return e;
    }
}
