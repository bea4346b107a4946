using ILGPU;
using ILGPU.Runtime;

namespace Plastic.Compute.Ilgpu;

/// <summary>Every kernel of <see cref="IlgpuKernels"/>, compiled and loaded once for one accelerator.</summary>
internal sealed class IlgpuKernelSet(Accelerator a)
{
    public readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> GemmTiled =
        a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(IlgpuKernels.GemmTiled);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvArgs, int> ConvForward =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvArgs, int>(IlgpuKernels.ConvForward);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvArgs> ConvBackwardInput =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvArgs>(IlgpuKernels.ConvBackwardInput);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvArgs, int> ConvBackwardWeight =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvArgs, int>(IlgpuKernels.ConvBackwardWeight);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolArgs> MaxPoolForward =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolArgs>(IlgpuKernels.MaxPoolForward);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolArgs> MaxPoolBackward =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolArgs>(IlgpuKernels.MaxPoolBackward);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs> AvgPoolForward =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs>(IlgpuKernels.AvgPoolForward);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs> AvgPoolBackward =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, PoolArgs>(IlgpuKernels.AvgPoolBackward);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>> Relu =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(IlgpuKernels.Relu);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>> ReluMask =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(IlgpuKernels.ReluMask);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> ReluBackward =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(IlgpuKernels.ReluBackward);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, BiasArgs> AddBias =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, BiasArgs>(IlgpuKernels.AddBias);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, BiasArgs, int> BiasGradient =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, BiasArgs, int>(IlgpuKernels.BiasGradient);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> Binary =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(IlgpuKernels.Binary);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, float> Scale =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(IlgpuKernels.Scale);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, float> Axpy =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(IlgpuKernels.Axpy);
    public readonly Action<Index1D, ArrayView<float>, float> Fill =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(IlgpuKernels.Fill);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int> BlockSums =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int>(IlgpuKernels.BlockSums);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> LogSoftmax =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(IlgpuKernels.LogSoftmax);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<double>, int, int, int> CrossEntropy =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<double>, int, int, int>(IlgpuKernels.CrossEntropy);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs> Sgd =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs>(IlgpuKernels.Sgd);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs> AdamW =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>(IlgpuKernels.AdamW);
    public readonly Action<Index1D, ArrayView<float>, ulong, ulong, float, float> FillUniform =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ulong, ulong, float, float>(IlgpuKernels.FillUniform);
    public readonly Action<Index1D, ArrayView<float>, ulong, ulong, float, float> FillNormal =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ulong, ulong, float, float>(IlgpuKernels.FillNormal);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs> Im2Col =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs>(IlgpuKernels.Im2Col);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs> Col2Im =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs>(IlgpuKernels.Col2Im);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs> ImagesToRows =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ConvArgs>(IlgpuKernels.ImagesToRows);
    public readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvArgs, int> RowsToImages =
        a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvArgs, int>(IlgpuKernels.RowsToImages);
}
