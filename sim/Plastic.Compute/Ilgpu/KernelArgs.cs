namespace Plastic.Compute.Ilgpu;

// Plain structs of scalars passed to kernels by value (kernels cannot take classes).

internal readonly struct GemmArgs(int m, int n, int k, bool transA, bool transB, int aCols, int bCols, float alpha, float beta)
{
    public readonly int M = m, N = n, K = k, TransA = transA ? 1 : 0, TransB = transB ? 1 : 0, ACols = aCols, BCols = bCols;
    public readonly float Alpha = alpha, Beta = beta;
}

internal readonly struct ConvArgs(ConvDims d)
{
    public readonly int N = d.N, Cin = d.Cin, H = d.H, W = d.W, Cout = d.Cout, Ho = d.Ho, Wo = d.Wo, K = d.K, Stride = d.Stride, Pad = d.Pad;
}

internal readonly struct PoolArgs(PoolDims d)
{
    public readonly int Planes = d.Planes, H = d.H, W = d.W, Ho = d.Ho, Wo = d.Wo, K = d.K, Stride = d.Stride;
}

internal readonly struct BiasArgs(BiasLayout l)
{
    public readonly int Outer = l.Outer, Features = l.Features, Inner = l.Inner;
}

internal readonly struct AdamArgs(AdamWSettings s, int step)
{
    public readonly float LearningRate = s.LearningRate, Beta1 = s.Beta1, Beta2 = s.Beta2, Epsilon = s.Epsilon;
    public readonly float Correction1 = 1f - MathF.Pow(s.Beta1, step), Correction2 = 1f - MathF.Pow(s.Beta2, step);
    public readonly float Decay = 1f - s.LearningRate * s.WeightDecay;
}

internal readonly struct SgdArgs(SgdSettings s, bool hasVelocity)
{
    public readonly float LearningRate = s.LearningRate, Momentum = s.Momentum, WeightDecay = s.WeightDecay;
    public readonly int HasVelocity = hasVelocity ? 1 : 0;
}
