namespace Plastic.Compute;

/// <summary>What a tensor holds, for the memory a backend reports by kind (`plastic bench train`).</summary>
public enum TensorKind
{
    /// <summary>Anything not tagged: buffers a kernel or a loss needs only while it runs.</summary>
    Scratch,
    /// <summary>A layer's weights and biases.</summary>
    Weights,
    /// <summary>A loss's own trained matrix: CLAPP++'s B, an InfoNCE projection.</summary>
    LossMatrix,
    /// <summary>Gradients of weights, biases and loss matrices, before the optimiser step.</summary>
    Gradients,
    /// <summary>AdamW's first and second moments.</summary>
    OptimiserState,
    /// <summary>A layer's input and its activations (pre, post, pooled, routing indices) kept for its update or its backward pass.</summary>
    Activations,
}

/// <summary>
/// The kind the tensors allocated on this thread are counted as, set around an allocation site with
/// <c>using var _ = TensorKinds.Use(TensorKind.Weights);</c> (actors allocate on their own thread, so the
/// tag cannot leak into another layer's allocations). Untagged allocations count as scratch.
/// </summary>
public static class TensorKinds
{
    [ThreadStatic] private static TensorKind _current;

    public static TensorKind Current => _current;

    public static Scope Use(TensorKind kind)
    {
        var previous = _current;
        _current = kind;
        return new Scope(previous);
    }

    public readonly struct Scope(TensorKind previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }

    public static readonly IReadOnlyList<TensorKind> All = Enum.GetValues<TensorKind>();
}
