using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// A loss on the top layer's output for the backprop baselines (BP-CLAPP++, BP-InfoNCE): its value
/// and dL/d(output) for both views; it steps its own parameters (B, a projection).
/// </summary>
public interface ITopLoss : IDisposable
{
    string Name { get; }

    /// <summary>The loss of a stacked output [2N, ...] (view 1 rows first); the returned gradient belongs to the loss.</summary>
    double Compute(Tensor output, int n, ReadOnlySpan<int> negatives, out Tensor gradOutput, long step);

    /// <summary>What a checkpoint must hold to resume the loss: its trained parameters and their AdamW moments.</summary>
    IReadOnlyList<Tensor> CheckpointState { get; }
}
