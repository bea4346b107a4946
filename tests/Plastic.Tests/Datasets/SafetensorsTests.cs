using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Plastic.Datasets.Numpy;

namespace Plastic.Tests.Datasets;

/// <summary>The safetensors export: the byte layout the format specifies, read back, and clear errors on damaged files.</summary>
public sealed class SafetensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("plastic-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_file_is_a_padded_json_header_then_little_endian_float32_tensors_back_to_back()
    {
        string path = Path.Combine(_dir, "w.safetensors");
        var w = NpyArray.Of([1f, -2f, 3.5f, 4f, 5f, 6f], 2, 3);
        var b = NpyArray.Of([0.25f, -0.5f], 2);
        Safetensors.Write(path, [("l1.weight", w), ("l1.bias", b)], new Dictionary<string, string> { ["network"] = "tiny" });

        // Read by hand, as the format's specification describes it.
        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n).TrimEnd(' '));
        Assert.Equal("tiny", header.RootElement.GetProperty("__metadata__").GetProperty("network").GetString());
        var weight = header.RootElement.GetProperty("l1.weight");
        Assert.Equal("F32", weight.GetProperty("dtype").GetString());
        Assert.Equal([2, 3], weight.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
        Assert.Equal([0L, 24L], weight.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal([24L, 32L], header.RootElement.GetProperty("l1.bias").GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(8 + (int)n + 32, bytes.Length);
        Assert.Equal(3.5f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 8)));
        Assert.Equal(-0.5f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 28)));

        var back = Safetensors.Read(path);
        Assert.Equal(w.Values, back["l1.weight"].Values);
        Assert.Equal(w.Shape, back["l1.weight"].Shape);
        Assert.Equal(b.Values, back["l1.bias"].Values);
    }

    [Fact]
    public void Damaged_files_are_refused_with_the_reason()
    {
        string path = Path.Combine(_dir, "bad.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<InvalidDataException>(() => Safetensors.Read(path)).Message);
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("header of 1000 bytes", Assert.Throws<InvalidDataException>(() => Safetensors.Read(path)).Message);
        Safetensors.Write(path, [("x", NpyArray.Of([1f, 2f], 2))]);
        var good = File.ReadAllBytes(path);
        File.WriteAllBytes(path, good[..^4]);   // the last float cut off
        Assert.Contains("tensor 'x'", Assert.Throws<InvalidDataException>(() => Safetensors.Read(path)).Message);
        Assert.Contains("repeated", Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [("x", NpyArray.Of([1f], 1)), ("x", NpyArray.Of([1f], 1))])).Message);
    }
}
