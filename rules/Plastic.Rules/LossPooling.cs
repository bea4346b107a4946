using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// What a loss sees of a layer's output [2N, C, H, W] (or [2N, D]): its loss features [2N, D], the
/// output average-pooled over k x k patches and flattened ("2D spatial dependence"), averaged over
/// the whole map (global pooling), or as it is; and the way back from dL/d(features) to
/// dL/d(output). Buffers follow the output's shape.
/// </summary>
public sealed class LossPooling(IComputeBackend backend, PoolGeometry? patches, bool global) : IDisposable
{
    private Buffers? _buffers;

    /// <summary>The loss features of <paramref name="output"/>, [2N, features]; valid until the next call.</summary>
    public Tensor Pool(Tensor output, int features)
    {
        var buf = _buffers?.Matches(output, features) == true ? _buffers : Reset(output, features);
        if (buf.Planes is { } planes) backend.Gemm(output.Reshape(planes), false, buf.PlaneMean!, false, buf.Pooled!.Reshape(new Shape(planes[0], 1)));
        else if (patches is { } p) backend.AvgPool2dForward(output, buf.Pooled!, p);
        return (buf.Pooled ?? output).Reshape(new Shape(output.Shape[0], features));
    }

    /// <summary>Where the caller writes dL/d(features) [2N, features] before <see cref="Unpool"/>.</summary>
    public Tensor FeatureGradient => _buffers?.FeatureGradient ?? throw new InvalidOperationException("LossPooling: Pool was not called.");

    /// <summary>dL/d(output) from <see cref="FeatureGradient"/>; the tensor belongs to this object.</summary>
    public Tensor Unpool()
    {
        var buf = _buffers ?? throw new InvalidOperationException("LossPooling: Pool was not called.");
        if (buf.Planes is { } planes)
            backend.Gemm(buf.GradPooled!.Reshape(new Shape(planes[0], 1)), false, buf.PlaneMean!, true, buf.GradOutput.Reshape(planes));
        else if (patches is { } p) backend.AvgPool2dBackward(buf.GradPooled!, buf.GradOutput, p);
        return buf.GradOutput;
    }

    private Buffers Reset(Tensor output, int features)
    {
        _buffers?.Dispose();
        return _buffers = new Buffers(backend, output.Shape, global, patches, features);
    }

    public void Dispose() => _buffers?.Dispose();

    private sealed class Buffers : IDisposable
    {
        private readonly Shape _output;
        private readonly int _features;
        private readonly List<Tensor> _owned = [];

        public Buffers(IComputeBackend b, Shape s, bool global, PoolGeometry? patches, int features)
        {
            _output = s;
            _features = features;
            Tensor Own(Tensor t) { _owned.Add(t); return t; }
            GradOutput = Own(b.Allocate(s));
            if (global && s.Rank == 4)
            {
                // Global average pooling as a product with a column of 1/(H W): [2N C, H W] x [H W, 1].
                Planes = new Shape(s[0] * s[1], s[2] * s[3]);
                PlaneMean = Own(b.Allocate(new Shape(s[2] * s[3], 1)));
                b.Fill(PlaneMean, 1f / (s[2] * s[3]));
                Pooled = Own(b.Allocate(new Shape(s[0], s[1])));
            }
            else if (patches is { } p && s.Rank == 4)
            {
                Pooled = Own(b.Allocate(new Shape(s[0], s[1], p.OutputSize(s[2]), p.OutputSize(s[3]))));
            }
            if (Pooled is not null) GradPooled = Own(b.Allocate(Pooled.Shape));
            long size = (Pooled?.Shape ?? s).Length / s[0];
            if (size != features)
                throw new ShapeMismatchException($"Loss pooling: the loss features of {s} have size {size} per sample, expected {features}.");
            FeatureGradient = (GradPooled ?? GradOutput).Reshape(new Shape(s[0], features));
        }

        public Shape? Planes { get; }
        public Tensor? PlaneMean { get; }
        public Tensor? Pooled { get; }
        public Tensor? GradPooled { get; }
        public Tensor GradOutput { get; }
        public Tensor FeatureGradient { get; }

        public bool Matches(Tensor output, int features) => output.Shape == _output && features == _features;

        public void Dispose() => _owned.ForEach(t => t.Dispose());
    }
}
