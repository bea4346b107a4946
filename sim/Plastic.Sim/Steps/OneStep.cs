using Plastic.Compute;
using Plastic.Datasets.Numpy;
using Plastic.Rules;
using Plastic.Sim.Actors;
using Plastic.Sim.Blocks;
using Plastic.Sim.Negatives;
using Plastic.Topology;

namespace Plastic.Sim.Steps;

/// <summary>What one training step is computed from: the stacked views [2N, C, H, W] and, optionally, the pairing, the 50/50 draws per layer and the parameters.</summary>
/// <param name="Negatives">2N rows: row r's negative; null: the released code's default, (r + 1 + N) mod 2N.</param>
/// <param name="Draws">Per layer, 2N draws for /either (true: the row makes its negative term); null: each rule's own.</param>
/// <param name="Parameters">By PyTorch name (see <see cref="OneStep"/>); null: the seeded initialisation of a run.</param>
public sealed record StepInputs(NpyArray Views, IReadOnlyList<int>? Negatives = null, IReadOnlyList<IReadOnlyList<bool>>? Draws = null,
    IReadOnlyDictionary<string, NpyArray>? Parameters = null);

/// <summary>
/// One training step of a network, computed by the classes a run's actors use (<see cref="LayerBlock"/>,
/// the rules of <see cref="Simulation.DefaultRule"/>, the backprop graph's <see cref="Simulation.TopLoss"/>),
/// initialised as a run with the same seed initialises them. It returns the parameters it started from
/// and, per layer, the loss, the loss features and the gradients before any optimiser step, named as in
/// PyTorch: <c>&lt;layer&gt;.weight</c> [out, in, k, k], <c>&lt;layer&gt;.bias</c>, the learned matrices
/// <c>&lt;layer&gt;.B</c> (lateral), <c>&lt;layer&gt;.B_fb</c> (direct feedback), <c>&lt;layer&gt;.B_lateral2</c>
/// (the second lateral B of the top under clapp++both), <c>proj.weight</c> (BP-InfoNCE); gradients as
/// <c>&lt;name&gt;.grad</c>. This is what `plastic step` dumps and what the PyTorch twin checks.
/// </summary>
public static class OneStep
{
    public const string ProjectionName = "proj.weight";

    public static IReadOnlyList<(string Name, NpyArray Array)> Run(NetworkSpec spec, GraphKind graph, ulong seed, StepInputs inputs, IComputeBackend backend)
    {
        var shapes = NetworkValidator.Validate(spec);
        var views = inputs.Views;
        var expected = new[] { spec.Input.Channels, spec.Input.Height, spec.Input.Width };
        if (views.Shape.Length != 4 || views.Shape[0] < 4 || views.Shape[0] % 2 != 0 || !views.Shape[1..].SequenceEqual(expected))
            throw new ArgumentException($"views: shape [{string.Join(", ", views.Shape)}], expected [2N, {string.Join(", ", expected)}] with N >= 2 (view 1 rows first).");
        int n = views.Shape[0] / 2;
        var negatives = inputs.Negatives?.ToArray() ?? [.. NegativeSampler.Next(n)];
        if (negatives.Length != 2 * n || negatives.Any(q => q < 0 || q >= 2 * n))
            throw new ArgumentException($"negatives: {negatives.Length} entries, expected {2 * n} (one per row), each a row in 0..{2 * n - 1}.");
        if (inputs.Draws is { } d && (d.Count != shapes.Count || d.Any(row => row.Count != 2 * n)))
            throw new ArgumentException($"draws: shape [{d.Count}, {(d.Count > 0 ? d[0].Count : 0)}], expected [{shapes.Count}, {2 * n}] (layers x rows).");

        var optimizer = new AdamWSettings(0f);
        var blocks = shapes.Select((s, i) => new LayerBlock(backend, s, new RandomStream(seed, (ulong)i))).ToList();
        try
        {
            return graph == GraphKind.Local
                ? Local(spec, shapes, blocks, backend, seed, optimizer, inputs, negatives, n)
                : Backprop(spec, shapes, blocks, backend, seed, optimizer, inputs.Parameters, negatives, n, views);
        }
        finally
        {
            blocks.ForEach(b => b.Dispose());
        }
    }

    private static List<(string, NpyArray)> Local(NetworkSpec spec, IReadOnlyList<LayerShape> shapes, List<LayerBlock> blocks, IComputeBackend backend,
        ulong seed, AdamWSettings optimizer, StepInputs inputs, int[] negatives, int n)
    {
        var rules = shapes.Select((s, i) => Simulation.DefaultRule(spec, s, backend, new RandomStream(seed, 1000UL + (ulong)i), optimizer)).ToList();
        try
        {
            var parameters = blocks.SelectMany((b, i) => Parameters(b).Concat(Matrices(spec.Layers[i].Name, rules[i]).Select(m => (m.Name, Tensor: m.Loss.B)))).ToList();
            Load(parameters, inputs.Parameters);
            var result = parameters.Select(p => (p.Name, Array(p.Tensor))).ToList();

            using var input = backend.Upload(inputs.Views.Values, new Shape([.. inputs.Views.Shape]));
            var x = input;
            foreach (var block in blocks) x = block.Forward(x);
            // Every sending layer's reference, as its actor sends it: its loss features of the 2N rows.
            var references = new Dictionary<string, TopDownSource>();
            try
            {
                for (int l = 0; l < blocks.Count; l++)
                {
                    var layer = spec.Layers[l];
                    var from = spec.Feedback.FirstOrDefault(e => e.To == layer.Name)?.From;
                    Tensor? topDown = null;
                    if (from is not null && rules[l].Needs.HasFlag(RuleSignals.TopDownReference))
                    {
                        int source = spec.Layers.ToList().FindIndex(s => s.Name == from);
                        if (!references.TryGetValue(from, out var sender)) references[from] = sender = new TopDownSource(backend, shapes[source]);
                        topDown = sender.Reference(blocks[source].Output);
                    }
                    using var dw = backend.Allocate(blocks[l].Weight.Shape);
                    using var db = blocks[l].Bias is { } bias ? backend.Allocate(bias.Shape) : null;
                    var view = blocks[l].ViewForRule(n, negatives, topDown) with { Draws = inputs.Draws?[l] };
                    double loss = rules[l].ComputeUpdate(view, dw, db);
                    result.Add(($"{layer.Name}.loss", NpyArray.Of([(float)loss])));
                    foreach (var (name, m) in Matrices(layer.Name, rules[l]))
                    {
                        if (m.TrainsB) result.Add(($"{name}.grad", Array(m.LastBGradient)));
                        if (m.LastDraws.Count > 0) result.Add(($"{name}.draws", NpyArray.Of([.. m.LastDraws.Select(b => b ? 1f : 0f)], 2 * n)));
                    }
                    if (Matrices(layer.Name, rules[l]).Select(m => m.Loss).FirstOrDefault()?.LastFeatures is { } features)
                        result.Add(($"{layer.Name}.features", Array(features)));
                    result.Add(($"{layer.Name}.weight.grad", Array(dw)));
                    if (db is not null) result.Add(($"{layer.Name}.bias.grad", Array(db)));
                }
            }
            finally
            {
                foreach (var r in references.Values) r.Dispose();
            }
            return result;
        }
        finally
        {
            rules.ForEach(r => r.Dispose());
        }
    }

    private static List<(string, NpyArray)> Backprop(NetworkSpec spec, IReadOnlyList<LayerShape> shapes, List<LayerBlock> blocks, IComputeBackend backend,
        ulong seed, AdamWSettings optimizer, IReadOnlyDictionary<string, NpyArray>? given, int[] negatives, int n, NpyArray views)
    {
        using var loss = Simulation.TopLoss(spec, shapes[^1], backend, new RandomStream(seed, 1000UL + (ulong)(shapes.Count - 1)), optimizer);
        string top = spec.Layers[^1].Name;
        var parameters = blocks.SelectMany(Parameters).ToList();
        parameters.Add(loss switch
        {
            ContrastiveLoss c => ($"{top}.B", c.B),
            InfoNceLoss i => (ProjectionName, i.Projection),
            _ => throw new InvalidOperationException($"OneStep: the top loss {loss.Name} has no named parameter."),
        });
        Load(parameters, given);
        var result = parameters.Select(p => (p.Name, Array(p.Tensor))).ToList();

        using var input = backend.Upload(views.Values, new Shape([.. views.Shape]));
        var x = input;
        foreach (var block in blocks) x = block.Forward(x);
        double value = loss.Compute(blocks[^1].Output, n, negatives, out var gradOutput, 0);
        result.Add(("loss", NpyArray.Of([(float)value])));
        switch (loss)
        {
            case ContrastiveLoss c:
                result.Add(($"{top}.features", Array(c.LastFeatures!)));
                if (c.TrainsB) result.Add(($"{top}.B.grad", Array(c.LastBGradient)));
                break;
            case InfoNceLoss i:
                result.Add(($"{top}.features", Array(i.LastFeatures!)));
                result.Add(($"{ProjectionName}.grad", Array(i.LastProjectionGradient)));
                break;
        }
        var grads = new List<(string, NpyArray)>();
        Tensor? carried = null;
        for (int l = blocks.Count - 1; l >= 0; l--)
        {
            using var dw = backend.Allocate(blocks[l].Weight.Shape);
            using var db = blocks[l].Bias is { } bias ? backend.Allocate(bias.Shape) : null;
            var gradInput = l > 0 ? backend.Allocate(blocks[l].Input.Shape) : null;
            blocks[l].Backward(carried ?? gradOutput, dw, db, gradInput);
            carried?.Dispose();
            carried = gradInput;
            if (db is not null) grads.Insert(0, ($"{spec.Layers[l].Name}.bias.grad", Array(db)));
            grads.Insert(0, ($"{spec.Layers[l].Name}.weight.grad", Array(dw)));
        }
        result.AddRange(grads);
        return result;
    }

    private static IEnumerable<(string Name, Tensor Tensor)> Parameters(LayerBlock block)
    {
        yield return ($"{block.Spec.Name}.weight", block.Weight);
        if (block.Bias is { } b) yield return ($"{block.Spec.Name}.bias", b);
    }

    /// <summary>A rule's learned matrices by their PyTorch names.</summary>
    private static IEnumerable<(string Name, ContrastiveLoss Loss)> Matrices(string layer, ILocalRule rule) => rule switch
    {
        LateralRule lateral => [($"{layer}.B", lateral.Loss)],
        DirectFeedbackRule feedback => [($"{layer}.B_fb", feedback.Loss)],
        BothRule both => [($"{layer}.B", both.LateralLoss), ($"{layer}.{(both.Fed ? "B_fb" : "B_lateral2")}", both.SecondLoss)],
        _ => [],
    };

    /// <summary>
    /// Replaces the parameters with the given arrays: every parameter must be there with its shape.
    /// Keys that are outputs of a step (losses, features, gradients, draws) are ignored, so a dump can
    /// be read back; any other unknown key is an error.
    /// </summary>
    private static void Load(IReadOnlyList<(string Name, Tensor Tensor)> parameters, IReadOnlyDictionary<string, NpyArray>? given)
    {
        if (given is null) return;
        var known = parameters.Select(p => p.Name).ToHashSet();
        var unknown = given.Keys.Where(k => !known.Contains(k) && !IsStepOutput(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"weights: '{unknown[0]}' is not a parameter of this network and rule. Parameters: {string.Join(", ", known)}.");
        foreach (var (name, tensor) in parameters)
        {
            if (!given.TryGetValue(name, out var array))
                throw new ArgumentException($"weights: '{name}' is missing (shape [{string.Join(", ", tensor.Shape.Dims)}]).");
            if (!array.Shape.SequenceEqual(tensor.Shape.Dims))
                throw new ArgumentException($"weights: '{name}' has shape [{string.Join(", ", array.Shape)}], expected [{string.Join(", ", tensor.Shape.Dims)}].");
            tensor.Backend.Upload(array.Values, tensor);
        }
    }

    private static bool IsStepOutput(string key) =>
        key == "loss" || key.EndsWith(".grad", StringComparison.Ordinal) || key.EndsWith(".loss", StringComparison.Ordinal)
        || key.EndsWith(".features", StringComparison.Ordinal) || key.EndsWith(".draws", StringComparison.Ordinal);

    private static NpyArray Array(Tensor t) => NpyArray.Of(t.ToArray(), [.. t.Shape.Dims]);
}
