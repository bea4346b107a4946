namespace Plastic.Compute;

/// <summary>
/// A float32 buffer with a shape, living on one backend. Exactly one component owns a tensor at a
/// time; the owner disposes it. Operations take tensors of their own backend only.
/// </summary>
public abstract class Tensor : IDisposable
{
    protected Tensor(Shape shape, IComputeBackend backend)
    {
        Shape = shape;
        Backend = backend;
    }

    public Shape Shape { get; }
    public IComputeBackend Backend { get; }
    public int Length => Shape.Length;
    public bool IsDisposed { get; private set; }

    /// <summary>A view of the same storage under another shape of equal length. The view does not own the storage.</summary>
    public Tensor Reshape(Shape shape)
    {
        if (shape.Length != Length)
            throw new ShapeMismatchException($"Reshape: {Shape} holds {Length} elements, {shape} holds {shape.Length}.");
        return View(0, shape);
    }

    /// <summary>A view of samples start .. start + count - 1 along the first axis (e.g. one view of a stacked pair of views).</summary>
    public Tensor Rows(int start, int count)
    {
        if (start < 0 || count < 1 || start + count > Shape[0])
            throw new ShapeMismatchException($"Rows: [{start}, {start + count}) is outside the first axis of {Shape}.");
        var dims = Shape.Dims.ToArray();
        int perRow = Length / dims[0];
        dims[0] = count;
        return View(start * perRow, new Shape(dims));
    }

    /// <summary>A view of <paramref name="shape"/>.Length elements starting at <paramref name="offset"/>; it does not own the storage.</summary>
    protected abstract Tensor View(int offset, Shape shape);

    public float[] ToArray()
    {
        // Download writes every element, so the array need not be zeroed first (megabytes per message).
        var host = GC.AllocateUninitializedArray<float>(Length);
        Backend.Download(this, host);
        return host;
    }

    public override string ToString() => $"Tensor{Shape} on {Backend.Name}";

    /// <summary>Bytes counted in the backend's live-tensor total (0 for views, which own no storage).</summary>
    internal long TrackedBytes { get; set; }
    internal TensorKind TrackedKind { get; set; }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        if (TrackedBytes > 0 && Backend is ComputeBackend owner) owner.Untrack(TrackedBytes, TrackedKind);
        GC.SuppressFinalize(this);
    }

    protected abstract void Release();
}

/// <summary>An int32 buffer with a shape: class labels, max-pool argmax routes, permutations.</summary>
public abstract class IndexTensor : IDisposable
{
    protected IndexTensor(Shape shape, IComputeBackend backend)
    {
        Shape = shape;
        Backend = backend;
    }

    public Shape Shape { get; }
    public IComputeBackend Backend { get; }
    public int Length => Shape.Length;
    public bool IsDisposed { get; private set; }

    public int[] ToArray()
    {
        var host = new int[Length];
        Backend.Download(this, host);
        return host;
    }

    /// <summary>Bytes counted in the backend's live-tensor total.</summary>
    internal long TrackedBytes { get; set; }
    internal TensorKind TrackedKind { get; set; }

    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        Release();
        if (TrackedBytes > 0 && Backend is ComputeBackend owner) owner.Untrack(TrackedBytes, TrackedKind);
        GC.SuppressFinalize(this);
    }

    protected abstract void Release();
}
