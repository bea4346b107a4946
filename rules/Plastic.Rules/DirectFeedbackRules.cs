using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// CLAPP++DFB (PAPER.md 2.1, 2.4, 3.3): the layer's loss is the <see cref="ContrastiveLoss"/> of its
/// output against the top-down reference (row r's reference: the loss features of row r at the layer
/// that sends them, detached), through a D_l x D_ref matrix B. The sending layer (the top) has no
/// reference above it and uses the lateral rule.
/// </summary>
public sealed class DirectFeedbackRule(IComputeBackend backend, int features, int referenceFeatures, int? lossPool, RandomStream init, AdamWSettings optimizer, ContrastiveSettings? settings = null) : ILocalRule
{
    public const string RuleName = "clapp++dfb";
    private readonly ContrastiveLoss _loss = new(backend, features, lossPool, init, optimizer, referenceFeatures, settings);

    public string Name => RuleName;
    public RuleSignals Needs => RuleSignals.Pairing | RuleSignals.TopDownReference;
    public Tensor B => _loss.B;
    Tensor? ILocalRule.ScoringB => B;
    public ContrastiveLoss Loss => _loss;
    public IReadOnlyList<Tensor> State => [_loss.B];
    public IReadOnlyList<Tensor> CheckpointState => _loss.CheckpointState;
    public Tensor LastBGradient => _loss.LastBGradient;

    public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
    {
        var reference = view.TopDown ?? throw new ArgumentException($"{Name}: no top-down reference in the view; the layer needs a direct-feedback edge.");
        double loss = _loss.Compute(view.Output, view.BatchSize, view.Negatives.Span, out var gradOutput, reference, view.Step, view.Draws);
        ThreeFactorUpdate.Apply(view, gradOutput, gradWeight, gradBias);
        return loss;
    }

    public void Dispose() => _loss.Dispose();
}

/// <summary>
/// CLAPP++both (the released code's --extra_lateral_loss): the sum of two contrastive losses, each with
/// its own B; the weight update is the gradient of the sum. A layer with a direct-feedback edge sums
/// its lateral loss and its feedback loss; the layer that sends the references has no reference above
/// it, and, as in the released code (its feedback index is itself), sums two lateral losses.
/// </summary>
public sealed class BothRule : ILocalRule
{
    public const string RuleName = "clapp++both";
    private readonly IComputeBackend _b;
    private readonly ContrastiveLoss _lateral, _second;
    private readonly bool _fed;
    private Tensor? _sum;

    /// <param name="referenceFeatures">D_ref of the top-down reference; null for the sending layer (two lateral losses).</param>
    public BothRule(IComputeBackend backend, int features, int? referenceFeatures, int? lossPool, RandomStream init, AdamWSettings optimizer, ContrastiveSettings? settings = null)
    {
        _b = backend;
        _fed = referenceFeatures is not null;
        _lateral = new ContrastiveLoss(backend, features, lossPool, init.Derive(0), optimizer, settings: settings);
        _second = new ContrastiveLoss(backend, features, lossPool, init.Derive(1), optimizer, referenceFeatures, settings);
    }

    public string Name => RuleName;
    public RuleSignals Needs => _fed ? RuleSignals.Pairing | RuleSignals.TopDownReference : RuleSignals.Pairing;
    /// <summary>Whether the second loss scores a top-down reference (else it is a second lateral loss).</summary>
    public bool Fed => _fed;
    /// <summary>The B of the lateral loss (D_l x D_l) and of the second loss (D_l x D_ref, or a second D_l x D_l at the top).</summary>
    public Tensor LateralB => _lateral.B;
    public Tensor SecondB => _second.B;
    public ContrastiveLoss LateralLoss => _lateral;
    public ContrastiveLoss SecondLoss => _second;
    public IReadOnlyList<Tensor> State => [_lateral.B, _second.B];
    public IReadOnlyList<Tensor> CheckpointState => [.. _lateral.CheckpointState, .. _second.CheckpointState];

    public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
    {
        var reference = _fed
            ? view.TopDown ?? throw new ArgumentException($"{Name}: no top-down reference in the view; the layer needs a direct-feedback edge.")
            : null;
        double lateral = _lateral.Compute(view.Output, view.BatchSize, view.Negatives.Span, out var gradLateral, step: view.Step, draws: view.Draws);
        double second = _second.Compute(view.Output, view.BatchSize, view.Negatives.Span, out var gradSecond, reference, view.Step, view.Draws);
        if (_sum?.Shape != gradLateral.Shape)
        {
            _sum?.Dispose();
            _sum = _b.Allocate(gradLateral.Shape);
        }
        _b.Add(gradLateral, gradSecond, _sum);
        ThreeFactorUpdate.Apply(view, _sum, gradWeight, gradBias);
        return lateral + second;
    }

    public void Dispose()
    {
        _lateral.Dispose();
        _second.Dispose();
        _sum?.Dispose();
    }
}
