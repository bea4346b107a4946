namespace Plastic.Topology;

/// <summary>A layer's tensor sizes per sample: channels x height x width (1 x 1 for vectors).</summary>
public readonly record struct FeatureShape(int Channels, int Height, int Width)
{
    public int Size => Channels * Height * Width;
    public override string ToString() => Height == 1 && Width == 1 ? $"{Channels}" : $"{Channels}x{Height}x{Width}";
}

/// <summary>
/// What shape inference found for one layer: its input, its pre-pool activation, its output (after
/// the max-pool), its loss features after the loss pool (flattened: the size of its B matrix side),
/// and its weight count.
/// </summary>
public sealed record LayerShape(LayerSpec Layer, FeatureShape Input, FeatureShape Activation, FeatureShape Output, FeatureShape LossFeatures, long Weights);
