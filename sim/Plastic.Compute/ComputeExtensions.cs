namespace Plastic.Compute;

/// <summary>Quantities derived from the backend's primitive reductions.</summary>
public static class ComputeExtensions
{
    public static double Norm(this IComputeBackend backend, Tensor x) => Math.Sqrt(backend.SquaredNorm(x));

    /// <summary>Cosine similarity of two tensors taken as flat vectors; 0 when either is zero.</summary>
    public static double Cosine(this IComputeBackend backend, Tensor a, Tensor b)
    {
        double dot = backend.Dot(a, b);
        double norms = Math.Sqrt(backend.SquaredNorm(a) * backend.SquaredNorm(b));
        return norms == 0 ? 0 : dot / norms;
    }

    public static IndexTensor UploadIndices(this IComputeBackend backend, ReadOnlySpan<int> data, Shape shape)
    {
        var t = backend.AllocateIndices(shape);
        backend.Upload(data, t);
        return t;
    }
}
