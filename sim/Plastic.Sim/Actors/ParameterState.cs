using Plastic.Compute;
using Plastic.Sim.Blocks;

namespace Plastic.Sim.Actors;

/// <summary>A layer's gradient buffers and AdamW moments for its weight and bias, owned by its actor.</summary>
internal sealed class ParameterState : IDisposable
{
    private readonly IComputeBackend _backend;
    private readonly LayerBlock _block;
    private readonly Tensor _momentW, _secondW;
    private readonly Tensor? _momentB, _secondB;

    public ParameterState(IComputeBackend backend, LayerBlock block)
    {
        _backend = backend;
        _block = block;
        using (TensorKinds.Use(TensorKind.Gradients))
        {
            GradWeight = backend.Allocate(block.Weight.Shape);
            if (block.Bias is { } bias) GradBias = backend.Allocate(bias.Shape);
        }
        using var moments = TensorKinds.Use(TensorKind.OptimiserState);
        _momentW = backend.Allocate(block.Weight.Shape);
        _secondW = backend.Allocate(block.Weight.Shape);
        if (block.Bias is { } b)
        {
            _momentB = backend.Allocate(b.Shape);
            _secondB = backend.Allocate(b.Shape);
        }
    }

    /// <summary>Everything the layer's learning state is made of, in a fixed order: weight, its moments, then bias and its moments.</summary>
    public IReadOnlyList<Tensor> CheckpointTensors =>
        _block.Bias is { } bias ? [_block.Weight, _momentW, _secondW, bias, _momentB!, _secondB!] : [_block.Weight, _momentW, _secondW];

    public Tensor GradWeight { get; }
    public Tensor? GradBias { get; }

    /// <summary>
    /// One AdamW step with the gradients in GradWeight / GradBias; steps count from 0 in the protocol, from 1
    /// in AdamW. A gradient that is not finite is refused: a diverged run stops at its first such step,
    /// naming it, rather than finishing with every weight NaN.
    /// </summary>
    public void Step(AdamWSettings optimizer, long step)
    {
        double squared = _backend.SquaredNorm(GradWeight) + (GradBias is null ? 0 : _backend.SquaredNorm(GradBias));
        if (!double.IsFinite(squared))
            throw new DivergedException($"diverged: the weight gradient is not finite (|dW|^2 = {squared}); lower the learning rate (it is {optimizer.LearningRate:G3})");
        int t = checked((int)(step + 1));
        _backend.AdamWStep(_block.Weight, GradWeight, _momentW, _secondW, optimizer, t);
        if (_block.Bias is { } bias) _backend.AdamWStep(bias, GradBias!, _momentB!, _secondB!, optimizer, t);
    }

    public Parameters Snapshot(string layer) =>
        new(layer, [.. _block.Weight.ToArray()], _block.Bias is null ? [] : [.. _block.Bias.ToArray()]);

    public void Dispose()
    {
        foreach (var t in new[] { GradWeight, _momentW, _secondW, GradBias, _momentB, _secondB }) t?.Dispose();
    }
}

/// <summary>A run that diverged (a loss or gradient that is not finite), stopped at the step and node where it did.</summary>
public sealed class DivergedException(string message) : InvalidOperationException(message)
{
    /// <summary>How every divergence message starts; it reaches the driver as text inside a node's failure.</summary>
    public const string Marker = "diverged: ";
}
