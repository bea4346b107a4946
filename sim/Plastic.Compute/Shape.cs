using System.Collections.Immutable;

namespace Plastic.Compute;

/// <summary>
/// The dimensions of a tensor, outermost first (NCHW for images, rows x columns for matrices).
/// Immutable and compared by value, so shapes can be used in messages and dictionary keys.
/// </summary>
public sealed class Shape : IEquatable<Shape>
{
    private readonly ImmutableArray<int> _dims;

    public Shape(params int[] dims)
    {
        if (dims.Length == 0)
            throw new ArgumentException("A shape needs at least one dimension.", nameof(dims));
        for (int i = 0; i < dims.Length; i++)
            if (dims[i] <= 0)
                throw new ArgumentException($"Dimension {i} of shape [{string.Join("x", dims)}] is {dims[i]}; every dimension must be positive.", nameof(dims));
        _dims = [.. dims];
        long length = 1;
        foreach (int d in dims) length *= d;
        if (length > int.MaxValue)
            throw new ArgumentException($"Shape [{string.Join("x", dims)}] holds {length} elements, more than one buffer can address ({int.MaxValue}).", nameof(dims));
        Length = (int)length;
    }

    public int Rank => _dims.Length;
    public int Length { get; }
    public int this[int axis] => _dims[axis];
    public ImmutableArray<int> Dims => _dims;

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims.AsSpan());
    public override bool Equals(object? obj) => Equals(obj as Shape);
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int d in _dims) hash.Add(d);
        return hash.ToHashCode();
    }
    public static bool operator ==(Shape? a, Shape? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Shape? a, Shape? b) => !(a == b);

    public override string ToString() => "[" + string.Join("x", _dims) + "]";
}
