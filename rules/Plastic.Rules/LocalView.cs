using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>The signals a rule needs beyond its own layer's tensors; the layer actor waits for them.</summary>
[Flags]
public enum RuleSignals
{
    None = 0,
    /// <summary>The step's pairing (which sample is whose negative), broadcast to every layer.</summary>
    Pairing = 1,
    /// <summary>A top-down reference on a declared direct-feedback edge.</summary>
    TopDownReference = 2,
}

/// <summary>
/// Everything a local rule may see for one step: its own layer's input, activations, output and
/// parameters, and the signals it declared. Batches stack the two views: rows 0..N-1 are view 1,
/// rows N..2N-1 view 2. Nothing here names another layer, an actor or a mailbox.
/// </summary>
public sealed record LocalView
{
    public required IComputeBackend Backend { get; init; }
    public required int BatchSize { get; init; }
    /// <summary>The training step: rules that draw random numbers key them by it, so a step's draws do not depend on how often the rule was called.</summary>
    public long Step { get; init; }
    public required Tensor Input { get; init; }
    public required Tensor PreActivation { get; init; }
    public required Tensor Output { get; init; }
    public required Tensor Weight { get; init; }
    public Tensor? Bias { get; init; }
    /// <summary>
    /// Row r's negative is row Negatives[r] of the stacked 2N rows (present when the rule needs Pairing);
    /// the released code's default is (r + 1 + N) mod 2N.
    /// </summary>
    public ReadOnlyMemory<int> Negatives { get; init; }
    /// <summary>The top-down reference [2N, D]: row r's reference for row r (present when the rule needs TopDownReference).</summary>
    public Tensor? TopDown { get; init; }
    /// <summary>
    /// Given 50/50 draws for /either (2N entries, true: the row makes its negative term), replacing the
    /// rule's own; null in runs, where each layer draws from its stream (for `plastic step` and tests).
    /// </summary>
    public IReadOnlyList<bool>? Draws { get; init; }

    /// <summary>
    /// The post-synaptic factor of a signal at this layer's output [2N, ...]: routed through its own
    /// max-pool (to the argmax) and multiplied by its ReLU mask rho'(a); the result, at the
    /// pre-activation, belongs to the layer and is valid until the next call.
    /// </summary>
    public required Func<Tensor, Tensor> PostSynaptic { get; init; }

    /// <summary>(input, pre): this layer's own synapses on another input of its input shape, pre = W x + b.</summary>
    public required Action<Tensor, Tensor> Synapses { get; init; }

    /// <summary>
    /// (input, gradPre, gradW, gradB, accumulate): the Hebbian product dW = sum gradPre x input and
    /// db = sum gradPre, for rules that form their own post-synaptic factor.
    /// </summary>
    public required Action<Tensor, Tensor, Tensor, Tensor?, bool> SynapseGradient { get; init; }
}

/// <summary>
/// A learning rule for one layer: a pure function of the layer's <see cref="LocalView"/> that writes
/// the gradient of the layer's local loss with respect to its weights and updates the rule's own
/// parameters (such as B). One instance per layer; it owns its tensors.
/// </summary>
public interface ILocalRule : IDisposable
{
    string Name { get; }
    RuleSignals Needs { get; }

    /// <summary>
    /// The rule's own learned parameters (its B matrices), in a fixed order: what a snapshot of the
    /// layer must carry for an instrument to recompute the rule's update. Empty for rules without any.
    /// </summary>
    IReadOnlyList<Tensor> State => [];

    /// <summary>
    /// The one B through which the rule scores its layer's features against their reference (lateral or
    /// direct feedback), for instruments that set it (the theory's "B at its optimum"); null for rules with
    /// none or with two.
    /// </summary>
    Tensor? ScoringB => null;

    /// <summary>Everything a checkpoint must hold to resume the rule exactly: its State and the optimiser moments behind it.</summary>
    IReadOnlyList<Tensor> CheckpointState => [];

    /// <summary>Writes dL/dW and dL/db (overwritten), steps the rule's own parameters, and returns the local loss.</summary>
    double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias);
}
