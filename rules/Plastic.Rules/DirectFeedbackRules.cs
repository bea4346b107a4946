using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// CLAPP++DFB (PAPER.md 2.1, 2.4): the layer's loss is the <see cref="ContrastiveLoss"/> of its
/// output against the top-down reference (the top layer's pooled output on the other view), through a
/// D_l x D_top matrix B. The top layer itself has no reference above it and uses the lateral rule.
/// </summary>
public sealed class DirectFeedbackRule(IComputeBackend backend, int features, int referenceFeatures, int? lossPool, RandomStream init, AdamWSettings optimizer, ContrastiveSettings? settings = null) : ILocalRule
{
    public const string RuleName = "clapp++dfb";
    private readonly ContrastiveLoss _loss = new(backend, features, lossPool, init, optimizer, referenceFeatures, settings);

    public string Name => RuleName;
    public RuleSignals Needs => RuleSignals.Pairing | RuleSignals.TopDownReference;
    public Tensor B => _loss.B;
    public IReadOnlyList<Tensor> State => [_loss.B];
    public IReadOnlyList<Tensor> CheckpointState => _loss.CheckpointState;
    public Tensor LastBGradient => _loss.LastBGradient;

    public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
    {
        var reference = view.TopDown ?? throw new ArgumentException($"{Name}: no top-down reference in the view; the layer needs a direct-feedback edge.");
        double loss = _loss.Compute(view.Output, view.BatchSize, view.Negatives.Span, out var gradOutput, reference, view.Step);
        ThreeFactorUpdate.Apply(view, gradOutput, gradWeight, gradBias);
        return loss;
    }

    public void Dispose() => _loss.Dispose();
}

/// <summary>
/// CLAPP++both: the sum of the lateral and the direct-feedback losses, each with its own B; the
/// weight update is the gradient of the sum.
/// </summary>
public sealed class BothRule : ILocalRule
{
    public const string RuleName = "clapp++both";
    private readonly IComputeBackend _b;
    private readonly ContrastiveLoss _lateral, _feedback;
    private Tensor? _sum;

    public BothRule(IComputeBackend backend, int features, int referenceFeatures, int? lossPool, RandomStream init, AdamWSettings optimizer, ContrastiveSettings? settings = null)
    {
        _b = backend;
        _lateral = new ContrastiveLoss(backend, features, lossPool, init.Derive(0), optimizer, settings: settings);
        _feedback = new ContrastiveLoss(backend, features, lossPool, init.Derive(1), optimizer, referenceFeatures, settings);
    }

    public string Name => RuleName;
    public RuleSignals Needs => RuleSignals.Pairing | RuleSignals.TopDownReference;
    /// <summary>The B of the lateral loss (D_l x D_l) and of the direct-feedback loss (D_l x D_top).</summary>
    public Tensor LateralB => _lateral.B;
    public Tensor FeedbackB => _feedback.B;
    public IReadOnlyList<Tensor> State => [_lateral.B, _feedback.B];
    public IReadOnlyList<Tensor> CheckpointState => [.. _lateral.CheckpointState, .. _feedback.CheckpointState];

    public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
    {
        var reference = view.TopDown ?? throw new ArgumentException($"{Name}: no top-down reference in the view; the layer needs a direct-feedback edge.");
        double lateral = _lateral.Compute(view.Output, view.BatchSize, view.Negatives.Span, out var gradLateral, step: view.Step);
        double feedback = _feedback.Compute(view.Output, view.BatchSize, view.Negatives.Span, out var gradFeedback, reference, view.Step);
        if (_sum?.Shape != gradLateral.Shape)
        {
            _sum?.Dispose();
            _sum = _b.Allocate(gradLateral.Shape);
        }
        _b.Add(gradLateral, gradFeedback, _sum);
        ThreeFactorUpdate.Apply(view, _sum, gradWeight, gradBias);
        return lateral + feedback;
    }

    public void Dispose()
    {
        _lateral.Dispose();
        _feedback.Dispose();
        _sum?.Dispose();
    }
}
