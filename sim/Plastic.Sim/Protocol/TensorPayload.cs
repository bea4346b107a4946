using System.Collections.Immutable;
using Plastic.Compute;

namespace Plastic.Sim.Protocol;

/// <summary>
/// A tensor travelling in a message: its dimensions and a private copy of its values. The array is
/// made for the payload and never handed out for writing, so a payload cannot change after it is sent.
/// </summary>
public sealed class TensorPayload : IEquatable<TensorPayload>
{
    private readonly float[] _values;

    private TensorPayload(ImmutableArray<int> dims, float[] values)
    {
        Dims = dims;
        _values = values;
    }

    public ImmutableArray<int> Dims { get; }
    public ReadOnlySpan<float> Values => _values;
    public int Length => _values.Length;
    /// <summary>Bytes of tensor data carried (what the traffic counters add up).</summary>
    public long Bytes => (long)_values.Length * sizeof(float);

    public Shape Shape => new([.. Dims]);

    /// <summary>Copies a tensor off its backend into a new payload.</summary>
    public static TensorPayload From(Tensor tensor) => new([.. tensor.Shape.Dims], tensor.ToArray());

    /// <summary>A payload from values the caller gives up: the array is copied, so the caller may keep using it.</summary>
    public static TensorPayload Copy(ReadOnlySpan<float> values, params int[] dims)
    {
        var shape = new Shape(dims);
        if (shape.Length != values.Length)
            throw new ShapeMismatchException($"TensorPayload: {values.Length} values do not fill shape {shape}.");
        return new([.. dims], values.ToArray());
    }

    /// <summary>For deserialisers: takes ownership of an array nobody else holds.</summary>
    internal static TensorPayload Adopt(ImmutableArray<int> dims, float[] values) => new(dims, values);

    /// <summary>Uploads the values into a tensor of the same length on a backend.</summary>
    public void CopyTo(IComputeBackend backend, Tensor destination) => backend.Upload(_values, destination);

    public bool Equals(TensorPayload? other) =>
        other is not null && Dims.SequenceEqual(other.Dims) && _values.AsSpan().SequenceEqual(other._values);

    public override bool Equals(object? obj) => Equals(obj as TensorPayload);
    public override int GetHashCode() => HashCode.Combine(Dims.Length, _values.Length);
    public override string ToString() => $"[{string.Join("x", Dims)}]";
}
