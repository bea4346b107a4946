using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// A matrix a loss learns beside the layer's weights (CLAPP's B, InfoNCE's projection) with its gradient
/// and its AdamW moments: one small type, so that the step and what a checkpoint must hold are written once.
/// </summary>
public sealed class TrainedMatrix : IDisposable
{
    private readonly IComputeBackend _backend;
    private readonly Tensor _m, _v;

    public TrainedMatrix(IComputeBackend backend, Shape shape)
    {
        _backend = backend;
        using (TensorKinds.Use(TensorKind.LossMatrix)) Value = backend.Allocate(shape);
        using (TensorKinds.Use(TensorKind.Gradients)) Gradient = backend.Allocate(shape);
        using var moments = TensorKinds.Use(TensorKind.OptimiserState);
        _m = backend.Allocate(shape);
        _v = backend.Allocate(shape);
    }

    public Tensor Value { get; }

    /// <summary>dL/d(matrix) of the last step: written by the loss, used by <see cref="Step"/>.</summary>
    public Tensor Gradient { get; }

    public Shape Shape => Value.Shape;

    /// <summary>What a checkpoint must hold to resume it exactly: the value and both moments.</summary>
    public IReadOnlyList<Tensor> CheckpointState => [Value, _m, _v];

    /// <summary>
    /// One AdamW step with the gradient. Its step count is the training step's (as for the weights): no
    /// hidden counter, so a checkpoint of the value and its moments is the whole state.
    /// </summary>
    public void Step(AdamWSettings optimizer, long step) => _backend.AdamWStep(Value, Gradient, _m, _v, optimizer, checked((int)(step + 1)));

    public void Dispose()
    {
        foreach (var t in new[] { Value, Gradient, _m, _v }) t.Dispose();
    }
}
