using System.Collections.Immutable;
using Plastic.Compute;
using Plastic.Sim.Negatives;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim;

/// <summary>One step's data: two views stacked as [2N, ...] and each sample's negative.</summary>
public sealed record TrainingBatch(TensorPayload Views, ImmutableArray<int> Negatives);

/// <summary>Where a run's minibatches come from; the same step always gives the same batch.</summary>
public interface IBatchSource
{
    TrainingBatch Batch(long step);
}

/// <summary>
/// Synthetic two-view batches for tests and demos: random normal samples, the second view a noisy
/// copy of the first; negatives from <see cref="NegativeSampler"/> (by default the released code's
/// "next sample").
/// </summary>
public sealed class SyntheticBatches(InputSpec input, int batchSize, ulong seed, float noise = 0.1f,
    NegativeSampling negatives = NegativeSampling.Next) : IBatchSource
{
    public TrainingBatch Batch(long step)
    {
        if (batchSize < 2) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "A batch needs at least 2 samples, so that each has a negative.");
        int size = input.Channels * input.Height * input.Width;
        var key = new RandomStream(seed, (ulong)step);
        var values = new float[2 * batchSize * size];
        for (int i = 0; i < batchSize * size; i++)
        {
            float x = key.Normal((ulong)i);
            values[i] = x;
            values[batchSize * size + i] = x + noise * key.Normal((ulong)(batchSize * size + i));
        }
        int[] dims = input.IsImage ? [2 * batchSize, input.Channels, input.Height, input.Width] : [2 * batchSize, size];
        // The array is made for this batch and held by nobody else: adopted, not copied again.
        return new TrainingBatch(TensorPayload.Adopt([.. dims], values), NegativeSampler.Draw(negatives, seed, step, batchSize));
    }
}

/// <summary>
/// One batch, made once and given for every step: the training engine measured without making data,
/// as a benchmark peer that trains on one fixed tensor does (the PyTorch peer's `x`). Not for learning.
/// </summary>
public sealed class RepeatedBatch(IBatchSource source) : IBatchSource
{
    // A source's views may be for one reader (a pooled array): the values are kept in an array of their own.
    private readonly Lazy<TrainingBatch> _batch = new(() =>
    {
        var batch = source.Batch(0);
        return batch with { Views = TensorPayload.Copy(batch.Views.Values, [.. batch.Views.Dims]) };
    });

    public TrainingBatch Batch(long step) => _batch.Value;
}
