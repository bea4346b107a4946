using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Plastic.Compute;

namespace Plastic.Sim.Protocol;

/// <summary>
/// A tensor travelling in a message: its dimensions and a private copy of its values, held as raw
/// little-endian float32 bytes so that the same buffer is what a remote message carries: the serializer
/// writes it with one copy, and a received payload reads its values in place from the bytes that arrived
/// (no copy). The buffer is made for the payload (or adopted from the transport) and never handed out for
/// writing, so a payload cannot change after it is sent.
/// </summary>
public sealed class TensorPayload : IEquatable<TensorPayload>
{
    private readonly byte[] _bytes;
    private readonly int _offset;

    private TensorPayload(ImmutableArray<int> dims, byte[] bytes, int offset, int length)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Tensor payloads are little-endian float32.");
        Dims = dims;
        _bytes = bytes;
        _offset = offset;
        Length = length;
    }

    public ImmutableArray<int> Dims { get; }
    public ReadOnlySpan<float> Values => MemoryMarshal.Cast<byte, float>(RawBytes);
    public int Length { get; }
    /// <summary>Bytes of tensor data carried (what the traffic counters add up).</summary>
    public long Bytes => (long)Length * sizeof(float);
    /// <summary>The values as the little-endian bytes the wire carries.</summary>
    internal ReadOnlySpan<byte> RawBytes => _bytes.AsSpan(_offset, Length * sizeof(float));

    public Shape Shape => new([.. Dims]);

    /// <summary>Copies a tensor off its backend into a new payload: one copy, from the backend's buffer into the payload's bytes.</summary>
    public static TensorPayload From(Tensor tensor)
    {
        var bytes = new byte[(long)tensor.Length * sizeof(float)];
        tensor.Backend.Download(tensor, MemoryMarshal.Cast<byte, float>(bytes.AsSpan()));
        return new([.. tensor.Shape.Dims], bytes, 0, tensor.Length);
    }

    /// <summary>A payload from values the caller gives up: the array is copied, so the caller may keep using it.</summary>
    public static TensorPayload Copy(ReadOnlySpan<float> values, params int[] dims)
    {
        var shape = new Shape(dims);
        if (shape.Length != values.Length)
            throw new ShapeMismatchException($"TensorPayload: {values.Length} values do not fill shape {shape}.");
        return new([.. dims], MemoryMarshal.AsBytes(values).ToArray(), 0, values.Length);
    }

    /// <summary>A payload of values a reader made (copied once into the payload's bytes).</summary>
    internal static TensorPayload Adopt(ImmutableArray<int> dims, float[] values) =>
        new(dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), 0, values.Length);

    /// <summary>
    /// For the deserializer: the values are read in place from <paramref name="count"/> floats at
    /// <paramref name="offset"/> of a received buffer that nobody else holds or writes.
    /// </summary>
    internal static TensorPayload Adopt(ImmutableArray<int> dims, byte[] received, int offset, int count) => new(dims, received, offset, count);

    /// <summary>Whether the values are read in place from <paramref name="buffer"/> (for the tests of the zero-copy receive).</summary>
    internal bool ReadsFrom(byte[] buffer) => ReferenceEquals(_bytes, buffer);

    /// <summary>Uploads the values into a tensor of the same length on a backend.</summary>
    public void CopyTo(IComputeBackend backend, Tensor destination) => backend.Upload(Values, destination);

    public bool Equals(TensorPayload? other) =>
        other is not null && Dims.SequenceEqual(other.Dims) && RawBytes.SequenceEqual(other.RawBytes);

    public override bool Equals(object? obj) => Equals(obj as TensorPayload);
    public override int GetHashCode() => HashCode.Combine(Dims.Length, Length);
    public override string ToString() => $"[{string.Join("x", Dims)}]";
}
