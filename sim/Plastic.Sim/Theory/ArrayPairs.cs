using Plastic.Sim.Negatives;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Theory;

/// <summary>
/// Two views given as arrays (from a .npy of shape [2, S, ...sample shape]): batch b holds samples
/// b*N .. b*N + N - 1 of both views; each sample's negative is the next one.
/// </summary>
public sealed class ArrayPairs : IBatchSource
{
    private readonly float[] _values;
    private readonly int[] _sampleShape;
    private readonly int _samples, _perBatch, _sampleSize;

    public ArrayPairs(float[] values, int[] shape, int perBatch, string name)
    {
        if (shape.Length < 3 || shape[0] != 2)
            throw new ArgumentException($"{name}: inputs of shape ({string.Join(", ", shape)}); expected (2, samples, ...sample shape): the two views.");
        _values = values;
        _samples = shape[1];
        _sampleShape = shape[2..];
        _sampleSize = _sampleShape.Aggregate(1, (a, b) => a * b);
        _perBatch = perBatch;
        if (_samples < perBatch) throw new ArgumentException($"{name}: {_samples} samples, fewer than one batch of {perBatch}.");
    }

    public int[] SampleShape => _sampleShape;
    public int Batches => _samples / _perBatch;

    public TrainingBatch Batch(long step)
    {
        if (step < 0 || step >= Batches) throw new ArgumentOutOfRangeException(nameof(step), step, $"Batch {step} is past the {_samples} samples given ({Batches} batches of {_perBatch}).");
        int n = _perBatch, first = (int)step * n;
        var stacked = new float[2 * n * _sampleSize];
        for (int view = 0; view < 2; view++)
            Array.Copy(_values, ((long)view * _samples + first) * _sampleSize, stacked, (long)view * n * _sampleSize, (long)n * _sampleSize);
        return new TrainingBatch(TensorPayload.Adopt([2 * n, .. _sampleShape], stacked), NegativeSampler.Draw(NegativeSampling.Next, 0, step, n));
    }
}
