using System.Collections.Immutable;
using Plastic.Compute;
using Plastic.Sim.Actors;
using Plastic.Sim.Blocks;
using Plastic.Topology;

namespace Plastic.Sim.Probes;

/// <summary>
/// A frozen encoder for linear probes (PAPER.md 4.4): the network's layers with given parameters (or
/// their initialisation, for the random-encoder baseline); the features of an image are every layer's
/// output average-pooled with its loss-pool kernel, flattened and concatenated.
/// </summary>
public sealed class EncoderFeatures : IDisposable
{
    private readonly IComputeBackend _b;
    private readonly List<LayerBlock> _blocks;

    public EncoderFeatures(NetworkSpec spec, IComputeBackend backend, ulong seed, IReadOnlyDictionary<string, Parameters>? parameters = null)
    {
        _b = backend;
        var shapes = NetworkValidator.Validate(spec);
        _blocks = shapes.Select((s, i) => new LayerBlock(backend, s, new RandomStream(seed, (ulong)i))).ToList();
        if (parameters is null) return;
        foreach (var block in _blocks)
        {
            if (!parameters.TryGetValue(block.Spec.Name, out var p))
                throw new ArgumentException($"No parameters for layer '{block.Spec.Name}' (have: {string.Join(", ", parameters.Keys)}).");
            if (p.Weight.Length != block.Weight.Length || p.Bias.Length != (block.Bias?.Length ?? 0))
                throw new ArgumentException($"Layer '{block.Spec.Name}': parameters of {p.Weight.Length} weights and {p.Bias.Length} biases; the spec's layer has {block.Weight.Length} and {block.Bias?.Length ?? 0}.");
            backend.Upload(p.Weight.AsSpan(), block.Weight);
            if (block.Bias is not null) backend.Upload(p.Bias.AsSpan(), block.Bias);
        }
    }

    /// <summary>Feature size per layer and in total.</summary>
    public IReadOnlyList<int> LayerSizes => _blocks.Select(b => b.Shape.LossFeatures.Size).ToList();
    public int Size => LayerSizes.Sum();

    /// <summary>Features [n, Size] of a batch of inputs [n, ...input shape], on the host.</summary>
    public float[] Of(float[] inputs, int[] dims)
    {
        int n = dims[0];
        using var x = _b.Upload(inputs, new Shape(dims));
        var features = new float[n * Size];
        var current = x;
        int offset = 0;
        foreach (var block in _blocks)
        {
            current = block.Forward(current);
            int size = block.Shape.LossFeatures.Size;
            var layer = block.LossFeatures();
            for (int i = 0; i < n; i++) Array.Copy(layer, i * size, features, i * Size + offset, size);
            offset += size;
        }
        return features;
    }

    public static ImmutableDictionary<string, Parameters> ToDictionary(IEnumerable<Parameters> parameters) =>
        parameters.ToImmutableDictionary(p => p.Layer);

    public void Dispose() => _blocks.ForEach(b => b.Dispose());
}
