using System.Collections.Immutable;
using Plastic.Compute;
using Plastic.Sim.Actors;
using Plastic.Topology;

namespace Plastic.Sim.Probes;

/// <summary>An online-probe measurement: the step of the weights and the probe's final and best-epoch test accuracy.</summary>
public sealed record OnlinePoint(long Step, double FinalAccuracy, double BestAccuracy);

/// <summary>
/// A probe during training: at each measurement, the current weights' concatenated features of a fixed
/// subset of training and test images, and a short linear probe on them. A cheaper and noisier probe than
/// the offline one (fewer images, fewer epochs, always the fast protocol): it shows the trend, the offline probe gives the number.
/// Measurements come from the monitor's thread, one at a time; its own backend is used only there.
/// </summary>
public sealed class OnlineProbe(NetworkSpec spec, IComputeBackend backend, ulong seed, IReadOnlyList<(float[] Images, int[] Dims, byte[] Labels)> train,
    IReadOnlyList<(float[] Images, int[] Dims, byte[] Labels)> test, int classes, int epochs)
{
    private readonly int _trainCount = train.Sum(b => b.Dims[0]);
    private readonly int _testCount = test.Sum(b => b.Dims[0]);
    private ImmutableList<OnlinePoint> _points = [];

    /// <summary>The measurements so far, in step order.</summary>
    public IReadOnlyList<OnlinePoint> Points => _points;

    public OnlinePoint Measure(long step, IReadOnlyDictionary<string, Parameters> parameters)
    {
        using var encoder = new EncoderFeatures(spec, backend, seed, parameters);
        var (xTrain, yTrain) = ProbeFeatures.Of(encoder, train, _trainCount);
        var (xTest, yTest) = ProbeFeatures.Of(encoder, test, _testCount);
        var result = LinearProbe.Train(backend, xTrain, yTrain, xTest, yTest, classes, epochs, seed);
        var point = new OnlinePoint(step, result.FinalAccuracy, result.Best.TestAccuracy);
        ImmutableInterlocked.Update(ref _points, p => p.Add(point));
        return point;
    }
}
