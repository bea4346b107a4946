using Plastic.Datasets.Numpy;
using Plastic.Topology;

namespace Plastic.Sim.Theory;

/// <summary>
/// A theory network's weights as NumPy arrays: W1 .. WL in PyTorch's layout, (out, in) for a linear layer
/// and (out, in, k, k) for a conv layer; what `plastic theory --init` reads and `--dump` writes.
/// </summary>
public static class TheoryWeights
{
    public static int[] Shape(LayerShape s) =>
        s.Layer.Kind == LayerKind.Conv ? [s.Layer.Width, s.Input.Channels, s.Layer.Kernel, s.Layer.Kernel] : [s.Layer.Width, s.Input.Size];

    /// <summary>The arrays a curve's --init must hold: W1 .. WL with their shapes.</summary>
    public static IReadOnlyList<(string Name, int[] Shape)> Expected(TheoryCurve curve) =>
        NetworkValidator.Validate(curve.Spec).Select((s, i) => ($"W{i + 1}", Shape(s))).ToList();

    /// <summary>
    /// The initial weights of <paramref name="curve"/> from <paramref name="arrays"/> (read from
    /// <paramref name="path"/>), every array checked against its layer's shape. An error is one line that
    /// names the file, the entry and the shape expected.
    /// </summary>
    public static IReadOnlyList<float[]> FromArrays(IReadOnlyDictionary<string, NpyArray> arrays, TheoryCurve curve, string path)
    {
        var expected = Expected(curve);
        var layers = curve.Spec.Layers;
        return expected.Select((e, i) =>
        {
            if (!arrays.TryGetValue(e.Name, out var w))
                throw new ArgumentException($"--init {path}: no entry {e.Name}.npy; expected {e.Name} of shape {Text(e.Shape)} for layer {layers[i].Name} of curve '{curve.Name}' (entries: {(arrays.Count == 0 ? "none" : string.Join(", ", arrays.Keys))}).");
            if (!w.Shape.SequenceEqual(e.Shape))
                throw new ArgumentException($"--init {path}: entry {e.Name}.npy has shape {Text(w.Shape)}; expected {Text(e.Shape)} for layer {layers[i].Name} of curve '{curve.Name}'.");
            return w.Values;
        }).ToList();
    }

    /// <summary>Reads <paramref name="path"/> for the curves; a file that is missing or not an .npz is an error naming what it should hold.</summary>
    public static IReadOnlyDictionary<string, NpyArray> Read(string path, IReadOnlyList<TheoryCurve> curves)
    {
        try { return Npy.ReadNpz(path); }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            string what = e is FileNotFoundException or DirectoryNotFoundException ? $"{path}: no such file" : OneLine(e.Message).TrimEnd('.');
            var first = curves[0];
            throw new ArgumentException($"--init {what}; expected an .npz with {string.Join(", ", Expected(first).Select(x => $"{x.Name} of shape {Text(x.Shape)}"))} (curve '{first.Name}').");
        }
    }

    /// <summary>NumPy's way of writing a shape: (3,) or (128, 196).</summary>
    public static string Text(int[] shape) => shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";

    private static string OneLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
