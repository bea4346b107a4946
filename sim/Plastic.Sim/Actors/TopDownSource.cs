using Plastic.Compute;
using Plastic.Topology;

namespace Plastic.Sim.Actors;

/// <summary>
/// The top-down reference a layer with feedback edges sends down (PAPER.md 3.3, 3.4): its own output
/// of both views, average-pooled by its loss pool and flattened to [2N, D]; row r is the reference of
/// row r at every receiving layer (c[r] = pool(z^top)[r], detached, as in the released code).
/// </summary>
internal sealed class TopDownSource(IComputeBackend backend, LayerShape shape) : IDisposable
{
    private readonly PoolGeometry? _pool = shape.Layer.LossPool is { } k ? new PoolGeometry(k) : null;
    private Tensor? _pooled;

    public Tensor Reference(Tensor output)
    {
        int rows = output.Shape[0];
        if (_pool is not { } pool) return output.Reshape(new Shape(rows, shape.LossFeatures.Size));
        var s = output.Shape;
        var pooledShape = new Shape(rows, s[1], pool.OutputSize(s[2]), pool.OutputSize(s[3]));
        if (_pooled?.Shape != pooledShape)
        {
            _pooled?.Dispose();
            _pooled = backend.Allocate(pooledShape);
        }
        backend.AvgPool2dForward(output, _pooled, pool);
        return _pooled.Reshape(new Shape(rows, shape.LossFeatures.Size));
    }

    public void Dispose() => _pooled?.Dispose();
}
