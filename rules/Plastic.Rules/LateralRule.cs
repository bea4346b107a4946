using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// CLAPP++ with a lateral reference: each layer minimises the <see cref="ContrastiveLoss"/> of
/// its own output, each row's reference being its own (detached) loss features, scored against the
/// other view of the same image and a negative. The weight
/// update is formed as a three-factor rule (<see cref="ThreeFactorUpdate"/>), which is that loss's
/// gradient through the layer's own pools and activation.
/// </summary>
public sealed class LateralRule(IComputeBackend backend, int features, int? lossPool, RandomStream init, AdamWSettings optimizer, ContrastiveSettings? settings = null) : ILocalRule
{
    private readonly ContrastiveLoss _loss = new(backend, features, lossPool, init, optimizer, settings: settings);

    public string Name => ContrastiveLoss.Name;
    public RuleSignals Needs => RuleSignals.Pairing;
    public Tensor B => _loss.B;
    Tensor? ILocalRule.ScoringB => B;
    public IReadOnlyList<Tensor> State => [_loss.B];
    public IReadOnlyList<Tensor> CheckpointState => _loss.CheckpointState;
    /// <summary>dL/dB of the last step, before the optimiser used it (for inspection and tests).</summary>
    public Tensor LastBGradient => _loss.LastBGradient;
    public ContrastiveLoss Loss => _loss;

    public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
    {
        double loss = _loss.Compute(view.Output, view.BatchSize, view.Negatives.Span, out var gradOutput, step: view.Step, draws: view.Draws);
        ThreeFactorUpdate.Apply(view, gradOutput, gradWeight, gradBias);
        return loss;
    }

    public void Dispose() => _loss.Dispose();
}
