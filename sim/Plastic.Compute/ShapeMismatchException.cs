namespace Plastic.Compute;

/// <summary>An operation was given tensors whose shapes do not fit together.</summary>
public sealed class ShapeMismatchException(string message) : ArgumentException(message);

/// <summary>Shape checks shared by every backend, so both report the same errors.</summary>
internal static class Require
{
    public static void Rank(string op, string name, Tensor t, int rank)
    {
        if (t.Shape.Rank != rank)
            throw new ShapeMismatchException($"{op}: {name} must have rank {rank}, but has shape {t.Shape}.");
    }

    public static void SameShape(string op, string nameA, Tensor a, string nameB, Tensor b)
    {
        if (a.Shape != b.Shape)
            throw new ShapeMismatchException($"{op}: {nameA} has shape {a.Shape} but {nameB} has shape {b.Shape}; they must match.");
    }

    public static void Shape(string op, string name, Tensor t, Shape expected)
    {
        if (t.Shape != expected)
            throw new ShapeMismatchException($"{op}: {name} has shape {t.Shape}, expected {expected}.");
    }

    public static void Length(string op, string name, int actual, int expected)
    {
        if (actual != expected)
            throw new ShapeMismatchException($"{op}: {name} holds {actual} elements, expected {expected}.");
    }

    public static void Distinct(string op, string nameA, object a, string nameB, object b)
    {
        if (ReferenceEquals(a, b))
            throw new ArgumentException($"{op}: {nameA} and {nameB} must be different tensors.");
    }
}
