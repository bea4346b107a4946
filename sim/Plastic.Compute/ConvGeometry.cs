namespace Plastic.Compute;

/// <summary>A square 2-D convolution: kernel size, stride and zero padding (the same on every side).</summary>
public readonly record struct ConvGeometry(int Kernel, int Stride = 1, int Padding = 0)
{
    public int OutputSize(int inputSize)
    {
        int span = inputSize + 2 * Padding - Kernel;
        if (Kernel <= 0 || Stride <= 0 || Padding < 0 || span < 0)
            throw new ShapeMismatchException($"Convolution {this} does not fit an input of size {inputSize}.");
        return span / Stride + 1;
    }

    public override string ToString() => $"k{Kernel} s{Stride} p{Padding}";
}

/// <summary>A square pooling window (no padding). Stride defaults to the window size.</summary>
public readonly record struct PoolGeometry(int Kernel, int Stride)
{
    public PoolGeometry(int kernel) : this(kernel, kernel) { }

    public int OutputSize(int inputSize)
    {
        if (Kernel <= 0 || Stride <= 0 || inputSize < Kernel)
            throw new ShapeMismatchException($"Pooling {this} does not fit an input of size {inputSize}.");
        return (inputSize - Kernel) / Stride + 1;
    }

    public override string ToString() => $"k{Kernel} s{Stride}";
}

/// <summary>SGD as PyTorch defines it: weight decay is added to the gradient, momentum without dampening.</summary>
public readonly record struct SgdSettings(float LearningRate, float Momentum = 0f, float WeightDecay = 0f);

/// <summary>
/// AdamW (Loshchilov and Hutter). Defaults are PyTorch's, which the paper's code uses
/// (lr 2e-4 is set by the experiments, not here).
/// </summary>
public readonly record struct AdamWSettings(
    float LearningRate,
    float Beta1 = 0.9f,
    float Beta2 = 0.999f,
    float Epsilon = 1e-8f,
    float WeightDecay = 0f);
