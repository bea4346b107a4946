using System.Diagnostics;
using Plastic.Sim;
using Plastic.Sim.Actors;

namespace Plastic.Cli.Bench;

/// <summary>When each step was finished by every node: steady-state throughput is measured between two of these.</summary>
public sealed class StepClock(int nodes, long steps) : IRunObserver
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly int[] _reported = new int[steps];
    private readonly double[] _finishedAt = new double[steps];

    public void StepDone(long step, string node, double loss)
    {
        // Called from the input node's thread only.
        if (++_reported[step] == nodes) _finishedAt[step] = _clock.Elapsed.TotalSeconds;
    }

    public void ParametersAt(long step, IReadOnlyDictionary<string, Parameters> parameters) { }

    /// <summary>Seconds from the end of step <paramref name="from"/> to the end of step <paramref name="to"/>.</summary>
    public double Between(long from, long to) => _finishedAt[to] - _finishedAt[from];
}
