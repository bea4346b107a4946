using System.Collections.Immutable;
using Plastic.Datasets.Numpy;
using Plastic.Sim.Actors;
using Plastic.Topology;

namespace Plastic.Experiments;

/// <summary>
/// A run's final weights as weights.npz (NumPy) and weights.safetensors (PyTorch: safetensors.torch.load_file),
/// named and shaped as PyTorch names and shapes them: "&lt;layer&gt;.weight" ([out, in, k, k] for conv
/// layers, [out, in] for linear ones) and "&lt;layer&gt;.bias".
/// </summary>
public static class WeightsFile
{
    public const string Name = "weights.npz";
    public const string SafetensorsName = "weights.safetensors";

    /// <summary>Writes <paramref name="path"/> (.npz) and the safetensors file beside it.</summary>
    public static void Write(string path, NetworkSpec network, IReadOnlyDictionary<string, Parameters> parameters)
    {
        var arrays = Arrays(network, parameters).ToList();
        Npy.WriteNpz(path, arrays);
        Safetensors.Write(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, SafetensorsName), arrays,
            new Dictionary<string, string> { ["network"] = network.Name, ["written_by"] = "plastic" });
    }

    private static IEnumerable<(string, NpyArray)> Arrays(NetworkSpec network, IReadOnlyDictionary<string, Parameters> parameters)
    {
        var shapes = NetworkValidator.Validate(network);
        return shapes.SelectMany(s =>
        {
            var p = parameters[s.Layer.Name];
            int[] shape = s.Layer.Kind == LayerKind.Conv ? [s.Layer.Width, s.Input.Channels, s.Layer.Kernel, s.Layer.Kernel] : [s.Layer.Width, s.Input.Size];
            var arrays = new List<(string, NpyArray)> { ($"{s.Layer.Name}.weight", NpyArray.Of(p.Weight.ToArray(), shape)) };
            if (p.Bias.Length > 0) arrays.Add(($"{s.Layer.Name}.bias", NpyArray.Of(p.Bias.ToArray(), s.Layer.Width)));
            return arrays;
        });
    }

    public static ImmutableDictionary<string, Parameters> Read(string path, NetworkSpec network)
    {
        var arrays = Npy.ReadNpz(path);
        return network.Layers.ToImmutableDictionary(l => l.Name, l =>
        {
            if (!arrays.TryGetValue($"{l.Name}.weight", out var w)) throw new ArgumentException($"{path}: no array {l.Name}.weight.");
            var b = arrays.TryGetValue($"{l.Name}.bias", out var bias) ? bias.Values : [];
            return new Parameters(l.Name, [.. w.Values], [.. b]);
        });
    }
}
