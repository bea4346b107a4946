using Plastic.Compute;
using Plastic.Rules;
using Plastic.Sim.Blocks;
using Plastic.Topology;

namespace Plastic.Sim;

/// <summary>
/// How one layer's local weight update compares with the backprop update, on one minibatch: their
/// cosine and norm ratio |local| / |backprop|, and the cosine of the error signals at the layer's
/// output (the rule's modulated prediction there against dL_top/d output; NaN for rules that act at
/// the pre-activation only, such as ff and scff).
/// </summary>
public sealed record LayerAlignment(string Layer, double Cosine, double NormRatio, double ErrorCosine = double.NaN);

/// <summary>One layer's local and backprop weight gradients (flattened dL/dW) and error signals at its output.</summary>
public sealed record LayerGradients(string Layer, float[] Local, float[] Backprop, float[]? LocalError, float[] BackpropError)
{
    /// <summary>Cosine and norm ratio of the two updates, and the cosine of the error signals (NaN without a local one).</summary>
    public LayerAlignment Alignment()
    {
        var (cosine, ratio) = Compare(Local, Backprop);
        return new LayerAlignment(Layer, cosine, ratio, LocalError is { } e ? Compare(e, BackpropError).Cosine : double.NaN);
    }

    private static (double Cosine, double NormRatio) Compare(float[] local, float[] backprop)
    {
        double dot = 0, ll = 0, bb = 0;
        for (int i = 0; i < local.Length; i++)
        {
            dot += (double)local[i] * backprop[i];
            ll += (double)local[i] * local[i];
            bb += (double)backprop[i] * backprop[i];
        }
        double norms = Math.Sqrt(ll * bb);
        return (norms == 0 ? 0 : dot / norms, bb == 0 ? double.NaN : Math.Sqrt(ll / bb));
    }
}

/// <summary>
/// The paper's central measurement (PAPER.md 2.6): for each layer, the cosine between the weight
/// update of its local rule and the update that backprop of the top layer's loss (BP-CLAPP++) gives,
/// both computed on the same weights, B matrices and minibatch. An instrument: it builds its own copy
/// of the layers, loads the parameters it is given (or a run's snapshots, through the monitor) and
/// never sends a message.
/// </summary>
public sealed class AlignmentMeter : IDisposable
{
    private readonly IComputeBackend _b;
    private readonly NetworkSpec _spec;
    private readonly List<LayerBlock> _blocks;
    private readonly List<ILocalRule> _rules;
    private readonly ContrastiveLoss _topLoss;

    /// <summary>Layers, rules and the top loss initialised exactly as <see cref="Simulation"/> does for the same seed.</summary>
    public AlignmentMeter(NetworkSpec spec, IComputeBackend backend, ulong seed)
    {
        _b = backend;
        _spec = spec;
        var shapes = NetworkValidator.Validate(spec);
        // Learning rate 0: measuring must not move B.
        var frozen = new AdamWSettings(0f);
        _blocks = shapes.Select((s, i) => new LayerBlock(backend, s, new RandomStream(seed, (ulong)i))).ToList();
        _rules = shapes.Select((s, i) => Simulation.DefaultRule(spec, s, backend, new RandomStream(seed, 1000UL + (ulong)i), frozen)).ToList();
        var top = shapes[^1];
        // The top layer's own loss settings (f, pooling), as its local rule has them.
        var topSettings = ContrastiveSettings.Parse(spec.RuleOf(top.Layer)).Settings;
        _topLoss = new ContrastiveLoss(backend, Simulation.LossFeatureSize(top, topSettings), top.Layer.LossPool, new RandomStream(seed, 1000UL + (ulong)(shapes.Count - 1)), frozen,
            settings: topSettings);
    }

    /// <summary>Replaces a layer's weights (e.g. with an orthogonal matrix, for the theory's conditions).</summary>
    public void SetWeights(int layer, ReadOnlySpan<float> weights) => _b.Upload(weights, _blocks[layer].Weight);

    /// <summary>A copy of a layer's current weights.</summary>
    public float[] Weights(int layer) => _blocks[layer].Weight.ToArray();

    /// <summary>
    /// Replaces the B of a lateral or direct-feedback layer; for the top layer the backprop loss's B
    /// too, so that both sides score with the same matrix (as the theory's "B at its optimum" requires).
    /// </summary>
    public void SetB(int layer, ReadOnlySpan<float> b)
    {
        var target = _rules[layer].ScoringB
            ?? throw new InvalidOperationException($"Layer {layer}: only a rule that scores through one B (lateral or direct feedback) can have it set, not {_rules[layer].Name}.");
        _b.Upload(b, target);
        if (layer == _blocks.Count - 1) _b.Upload(b, _topLoss.B);
    }

    /// <summary>
    /// Each layer's loss features for one batch, after a forward pass with the current weights:
    /// (view 1, view 2), each [N, D] on the host.
    /// </summary>
    public IReadOnlyList<(float[] View1, float[] View2)> Features(TrainingBatch batch)
    {
        int n = batch.Views.Dims[0] / 2;
        using var input = _b.Upload(batch.Views.Values, batch.Views.Shape);
        var x = input;
        var result = new List<(float[], float[])>();
        foreach (var block in _blocks)
        {
            x = block.Forward(x);
            var features = block.LossFeatures();
            int half = n * block.Shape.LossFeatures.Size;
            result.Add((features[..half], features[half..]));
        }
        return result;
    }

    /// <summary>
    /// Loads one layer's parameters as a snapshot carried them: weights, bias and the rule's state (its
    /// B matrices, in <see cref="ILocalRule.State"/> order). The top layer's first B is also the
    /// backprop loss's B, so that both sides score with the same matrix.
    /// </summary>
    public void Load(int layer, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, IReadOnlyList<float[]> ruleState)
    {
        _b.Upload(weight, _blocks[layer].Weight);
        if (_blocks[layer].Bias is { } b) _b.Upload(bias, b);
        var state = _rules[layer].State;
        if (state.Count != ruleState.Count)
            throw new ArgumentException($"Layer {_spec.Layers[layer].Name}: the snapshot carries {ruleState.Count} rule tensors, the rule has {state.Count}.");
        for (int i = 0; i < state.Count; i++) _b.Upload(ruleState[i], state[i]);
        if (layer == _blocks.Count - 1 && state.Count > 0 && state[0].Shape == _topLoss.B.Shape) _b.Upload(ruleState[0], _topLoss.B);
    }

    public IReadOnlyList<LayerAlignment> Measure(TrainingBatch batch, long step = 0) =>
        Gradients(batch, step).Select(g => g.Alignment()).ToList();

    /// <summary>
    /// Each layer's local weight update and the backprop update of the top loss (flattened dL/dW), and
    /// the error signals at its output (the local one null for rules without one), on one minibatch.
    /// </summary>
    public IReadOnlyList<LayerGradients> Gradients(TrainingBatch batch, long step = 0)
    {
        int n = batch.Views.Dims[0] / 2;
        var negatives = batch.Negatives.AsMemory();
        using var input = _b.Upload(batch.Views.Values, batch.Views.Shape);

        // One forward pass; references for direct-feedback rules are the top layer's loss features, as in a run.
        var x = input;
        foreach (var block in _blocks) x = block.Forward(x);
        using var reference = TopDownReference(n);

        var local = new List<float[]>();
        var localErrors = new List<float[]?>();
        for (int l = 0; l < _blocks.Count; l++)
        {
            using var dw = _b.Allocate(_blocks[l].Weight.Shape);
            using var db = _blocks[l].Bias is { } bias ? _b.Allocate(bias.Shape) : null;
            bool fed = _rules[l].Needs.HasFlag(RuleSignals.TopDownReference);
            var view = _blocks[l].ViewForRule(n, negatives, fed ? reference : null, step);
            float[]? error = null;
            // The signal the rule puts at the layer's output passes through PostSynaptic: keep a copy.
            var recording = Recording(view, signal => error ??= signal.ToArray());
            _rules[l].ComputeUpdate(recording, dw, db);
            local.Add(dw.ToArray());
            localErrors.Add(error);
        }

        // Backprop of the top layer's own local loss through every block (PAPER.md 2.6: loss[-1]): its
        // error signal at the top's output is the one the top rule formed (both terms of clapp++both's
        // two lateral losses); rules that form none (ff, scff) are compared with the top's clapp++ loss.
        using var recordedTop = localErrors[^1] is { } e ? _b.Upload(e, _blocks[^1].Output.Shape) : null;
        Tensor gradOutput;
        if (recordedTop is not null) gradOutput = recordedTop;
        else _topLoss.Compute(_blocks[^1].Output, n, negatives.Span, out gradOutput, step: step);
        var results = new LayerGradients[_blocks.Count];
        Tensor? carried = null;
        for (int l = _blocks.Count - 1; l >= 0; l--)
        {
            using var dw = _b.Allocate(_blocks[l].Weight.Shape);
            using var db = _blocks[l].Bias is { } bias ? _b.Allocate(bias.Shape) : null;
            var gradInput = l > 0 ? _b.Allocate(_blocks[l].Input.Shape) : null;
            var backpropError = (carried ?? gradOutput).ToArray();
            _blocks[l].Backward(carried ?? gradOutput, dw, db, gradInput);
            carried?.Dispose();
            carried = gradInput;
            results[l] = new LayerGradients(_spec.Layers[l].Name, local[l], dw.ToArray(), localErrors[l], backpropError);
        }
        return results;
    }

    private static LocalView Recording(LocalView view, Action<Tensor> onSignal) =>
        view with { PostSynaptic = signal => { onSignal(signal); return view.PostSynaptic(signal); } };

    /// <summary>The top layer's loss features of all 2N rows, the reference a run's feedback edges carry.</summary>
    private Tensor? TopDownReference(int n)
    {
        if (!_rules.Any(r => r.Needs.HasFlag(RuleSignals.TopDownReference))) return null;
        var top = _blocks[^1];
        var output = top.Output;
        var flat = _b.Allocate(new Shape(2 * n, top.Shape.LossFeatures.Size));
        if (top.Spec.LossPool is not { } k)
        {
            _b.Copy(output.Reshape(flat.Shape), flat);
            return flat;
        }
        var pool = new PoolGeometry(k);
        var s = output.Shape;
        _b.AvgPool2dForward(output, flat.Reshape(new Shape(2 * n, s[1], pool.OutputSize(s[2]), pool.OutputSize(s[3]))), pool);
        return flat;
    }

    public void Dispose()
    {
        _blocks.ForEach(b => b.Dispose());
        _rules.ForEach(r => r.Dispose());
        _topLoss.Dispose();
    }
}
