using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// The weight update of the contrastive rules as a three-factor rule (PAPER.md 3.2):
///     dW = sum over samples and positions of  [modulator x dendritic prediction] (post) x input (pre).
/// The contrastive loss hands over the first two factors already combined and spread over the
/// layer's output: for each sample, the gated sum G B c of the prediction B c (G: the hinge gate and
/// sign of each positive and negative term), spread evenly back over its loss-pool patch. Here the
/// layer routes that signal through its own max-pool (to the argmax) and ReLU mask rho'(a), giving
/// the post-synaptic factor, and forms the Hebbian product with its presynaptic input. No error is
/// propagated from anywhere: every factor is this layer's own activity or its own loss's scores.
/// </summary>
public static class ThreeFactorUpdate
{
    /// <summary>
    /// Writes dW (and db) for <paramref name="predictionAtOutput"/> [2N, ...output shape], the modulated
    /// dendritic prediction at the layer's output.
    /// </summary>
    public static void Apply(LocalView view, Tensor predictionAtOutput, Tensor gradWeight, Tensor? gradBias)
    {
        var post = view.PostSynaptic(predictionAtOutput);
        view.SynapseGradient(view.Input, post, gradWeight, gradBias, false);
    }
}
