using ILGPU;
using ILGPU.Runtime;

namespace Plastic.Compute.Ilgpu;

public sealed partial class IlgpuBackend
{
    protected override void GemmCore(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, float alpha, float beta, int m, int n, int k) =>
        Run(() => GemmViews(V(a), transposeA, a.Shape[1], V(b), transposeB, b.Shape[1], V(c), m, n, k, alpha, beta));

    protected override void Conv2dForwardCore(Tensor input, Tensor weight, Tensor? bias, Tensor output, ConvDims d)
    {
        if (_convolutionsAsGemm) ConvForwardAsGemm(input, weight, bias, output, d);
        else Run(() => Kernels.ConvForward(output.Length, V(input), V(weight), bias is null ? V(weight) : V(bias), V(output), new ConvArgs(d), bias is null ? 0 : 1));
    }

    protected override void Conv2dBackwardInputCore(Tensor gradOutput, Tensor weight, Tensor gradInput, ConvDims d)
    {
        if (_convolutionsAsGemm) ConvBackwardInputAsGemm(gradOutput, weight, gradInput, d);
        else Run(() => Kernels.ConvBackwardInput(gradInput.Length, V(gradOutput), V(weight), V(gradInput), new ConvArgs(d)));
    }

    protected override void Conv2dBackwardWeightCore(Tensor input, Tensor gradOutput, Tensor gradWeight, Tensor? gradBias, ConvDims d, bool accumulate)
    {
        if (_convolutionsAsGemm) ConvBackwardWeightAsGemm(input, gradOutput, gradWeight, d, accumulate);
        else Run(() => Kernels.ConvBackwardWeight(gradWeight.Length, V(input), V(gradOutput), V(gradWeight), new ConvArgs(d), accumulate ? 1 : 0));
        if (gradBias is not null) BiasGradientCore(gradOutput, gradBias, new BiasLayout(d.N, d.Cout, d.Pixels), accumulate);
    }

    protected override void MaxPool2dForwardCore(Tensor input, Tensor output, IndexTensor argmax, PoolDims d) =>
        Run(() => Kernels.MaxPoolForward(output.Length, V(input), V(output), I(argmax).View, new PoolArgs(d)));

    protected override void MaxPool2dBackwardCore(Tensor gradOutput, IndexTensor argmax, Tensor gradInput, PoolDims d) =>
        Run(() => Kernels.MaxPoolBackward(gradInput.Length, V(gradOutput), I(argmax).View, V(gradInput), new PoolArgs(d)));

    protected override void AvgPool2dForwardCore(Tensor input, Tensor output, PoolDims d) =>
        Run(() => Kernels.AvgPoolForward(output.Length, V(input), V(output), new PoolArgs(d)));

    protected override void AvgPool2dBackwardCore(Tensor gradOutput, Tensor gradInput, PoolDims d) =>
        Run(() => Kernels.AvgPoolBackward(gradInput.Length, V(gradOutput), V(gradInput), new PoolArgs(d)));

    protected override void ReluCore(Tensor x, Tensor y) => Run(() => Kernels.Relu(x.Length, V(x), V(y)));
    protected override void ReluMaskCore(Tensor y, Tensor mask) => Run(() => Kernels.ReluMask(y.Length, V(y), V(mask)));
    protected override void ReluBackwardCore(Tensor gradY, Tensor y, Tensor gradX) => Run(() => Kernels.ReluBackward(y.Length, V(gradY), V(y), V(gradX)));

    protected override void AddBiasCore(Tensor x, Tensor bias, BiasLayout layout) =>
        Run(() => Kernels.AddBias(x.Length, V(x), V(bias), new BiasArgs(layout)));

    protected override void BiasGradientCore(Tensor gradY, Tensor gradBias, BiasLayout layout, bool accumulate) =>
        Run(() => Kernels.BiasGradient(layout.Features, V(gradY), V(gradBias), new BiasArgs(layout), accumulate ? 1 : 0));

    protected override void BinaryCore(BinaryOp op, Tensor a, Tensor b, Tensor y) =>
        Run(() => Kernels.Binary(y.Length, V(a), V(b), V(y), (int)op));

    protected override void ScaleCore(Tensor x, float factor, Tensor y) => Run(() => Kernels.Scale(x.Length, V(x), V(y), factor));
    protected override void AxpyCore(float alpha, Tensor x, Tensor y) => Run(() => Kernels.Axpy(x.Length, V(x), V(y), alpha));
    protected override void FillCore(Tensor y, float value) => Run(() => Kernels.Fill(y.Length, V(y), value));
    protected override void CopyCore(Tensor source, Tensor destination) => Run(() => T(source).Elements.CopyTo(T(destination).Elements));

    protected override bool TryCopyFromSameDeviceCore(Tensor source, Tensor destination)
    {
        if (source is not IlgpuTensor { Backend: IlgpuBackend owner } from || owner._device != _device) return false;
        Run(() => from.Elements.CopyTo(T(destination).Elements));
        return true;
    }

    private const int ReductionBlock = 4096;

    protected override double SumCore(Tensor x) => Reduce(x, x, dot: false);
    protected override double DotCore(Tensor a, Tensor b) => Reduce(a, b, dot: true);

    /// <summary>Block sums on the device, added on the host in block order: the same bits every run.</summary>
    private double Reduce(Tensor a, Tensor b, bool dot)
    {
        int blocks = (a.Length + ReductionBlock - 1) / ReductionBlock;
        var partials = new double[blocks];
        Run(() =>
        {
            using var buffer = _device.Pool.Scratch<double>(blocks);
            Kernels.BlockSums(blocks, V(a), V(b), buffer.View, a.Length, ReductionBlock, dot ? 1 : 0);
            buffer.View.CopyToCPU(partials);
        });
        double total = 0;
        foreach (double p in partials) total += p;
        return total;
    }

    protected override void LogSoftmaxCore(Tensor logits, Tensor logProbabilities) =>
        Run(() => Kernels.LogSoftmax(logits.Shape[0], V(logits), V(logProbabilities), logits.Shape[1]));

    protected override double SoftmaxCrossEntropyCore(Tensor logits, IndexTensor labels, Tensor? gradLogits)
    {
        int rows = logits.Shape[0], classes = logits.Shape[1];
        var losses = new double[rows];
        Run(() =>
        {
            using var buffer = _device.Pool.Scratch<double>(rows);
            Kernels.CrossEntropy(rows, V(logits), I(labels).View, gradLogits is null ? V(logits) : V(gradLogits), buffer.View, classes, rows, gradLogits is null ? 0 : 1);
            buffer.View.CopyToCPU(losses);
        });
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            if (double.IsNaN(losses[r]))
            {
                var label = new int[rows];
                Download(labels, label);
                if ((uint)label[r] >= (uint)classes)
                    throw new ArgumentException($"SoftmaxCrossEntropy: labels[{r}] = {label[r]} is not a class index in [0, {classes}).");
            }
            total += losses[r];
        }
        return total / rows;
    }

    protected override void SgdStepCore(Tensor parameter, Tensor gradient, Tensor? velocity, SgdSettings settings) =>
        Run(() => Kernels.Sgd(parameter.Length, V(parameter), V(gradient), velocity is null ? V(gradient) : V(velocity), new SgdArgs(settings, velocity is not null)));

    protected override void AdamWStepCore(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWSettings settings, int step) =>
        Run(() => Kernels.AdamW(parameter.Length, V(parameter), V(gradient), V(firstMoment), V(secondMoment), new AdamArgs(settings, step)));

    protected override void FillUniformCore(Tensor y, RandomStream stream, float low, float high) =>
        Run(() => Kernels.FillUniform(y.Length, V(y), stream.Seed, stream.Stream, low, high - low));

    protected override void FillNormalCore(Tensor y, RandomStream stream, float mean, float standardDeviation) =>
        Run(() => Kernels.FillNormal(y.Length, V(y), stream.Seed, stream.Stream, mean, standardDeviation));
}
