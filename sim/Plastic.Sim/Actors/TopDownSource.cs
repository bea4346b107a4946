using Plastic.Compute;
using Plastic.Topology;

namespace Plastic.Sim.Actors;

/// <summary>
/// The top-down reference a layer with feedback edges sends down (PAPER.md 3.4): its own output on
/// the other view (rows N..2N-1), average-pooled by its loss pool and flattened to [N, D].
/// </summary>
internal sealed class TopDownSource(IComputeBackend backend, LayerShape shape) : IDisposable
{
    private readonly PoolGeometry? _pool = shape.Layer.LossPool is { } k ? new PoolGeometry(k) : null;
    private Tensor? _pooled;

    public Tensor Reference(Tensor output, int n)
    {
        var otherView = output.Rows(n, n);
        if (_pool is not { } pool) return otherView.Reshape(new Shape(n, shape.LossFeatures.Size));
        var s = otherView.Shape;
        var pooledShape = new Shape(n, s[1], pool.OutputSize(s[2]), pool.OutputSize(s[3]));
        if (_pooled?.Shape != pooledShape)
        {
            _pooled?.Dispose();
            _pooled = backend.Allocate(pooledShape);
        }
        backend.AvgPool2dForward(otherView, _pooled, pool);
        return _pooled.Reshape(new Shape(n, shape.LossFeatures.Size));
    }

    public void Dispose() => _pooled?.Dispose();
}
