using System.Diagnostics;
using System.Globalization;
using Plastic.Sim.Actors;

namespace Plastic.Experiments.Runs;

/// <summary>Progress as a line every tenth of the run (finished steps, images/s, latest loss per node): for logs, scripts and tests.</summary>
public sealed class LineProgress(IReadOnlyList<string> nodes, long steps, long firstStep, int batch,
    Action<long, IReadOnlyDictionary<string, Parameters>>? onParameters, Action<string> log) : IRunProgress
{
    private readonly Dictionary<string, (long Done, double Loss)> _nodes = nodes.ToDictionary(n => n, _ => (firstStep, double.NaN));
    private readonly Stopwatch _clock = new();
    private readonly object _gate = new();
    private int _tenthsPrinted = (int)(firstStep * 10 / Math.Max(1, steps));

    public T Show<T>(Func<T> train)
    {
        _clock.Start();
        return train();
    }

    public void StepDone(long step, string node, double loss)
    {
        lock (_gate)
        {
            if (!_nodes.ContainsKey(node)) return;
            _nodes[node] = (step + 1, double.IsNaN(loss) ? _nodes[node].Loss : loss);
            long finished = _nodes.Values.Min(n => n.Done);
            if ((int)(finished * 10 / Math.Max(1, steps)) <= _tenthsPrinted) return;
            _tenthsPrinted = (int)(finished * 10 / Math.Max(1, steps));
            double imagesPerSecond = (finished - firstStep) * batch / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
            var losses = _nodes.Where(n => !double.IsNaN(n.Value.Loss)).Select(n => string.Create(CultureInfo.InvariantCulture, $"{n.Key} {n.Value.Loss:F4}"));
            log(string.Create(CultureInfo.InvariantCulture,
                $"  step {finished}/{steps} ({100.0 * finished / steps:F0}%), {imagesPerSecond:F0} images/s, {_clock.Elapsed.TotalSeconds:F0} s; loss {string.Join(", ", losses)}"));
        }
    }

    public void ParametersAt(long step, IReadOnlyDictionary<string, Parameters> parameters) => onParameters?.Invoke(step, parameters);
}
