using System.Diagnostics;
using Plastic.Sim;
using Plastic.Experiments.Runs;
using Plastic.Sim.Actors;
using Spectre.Console;

namespace Plastic.Cli.Runs;

/// <summary>
/// Progress of a run for the person watching it: on a terminal, a bar per node (each layer's steps and
/// its latest loss: in a pipelined local graph the bars show the layers working on different steps) and a
/// bar of finished steps with images/s; when output goes to a file or a pipe, the engine's
/// <see cref="LineProgress"/> (a line every tenth of the run). Parameters for an online probe are handed on
/// to <paramref name="onParameters"/>.
/// </summary>
public sealed class RunProgress(IReadOnlyList<string> nodes, long steps, long firstStep, int batch,
    Action<long, IReadOnlyDictionary<string, Parameters>>? onParameters = null) : IRunProgress
{
    /// <summary>The engine's hook for this display.</summary>
    public static readonly RunProgressFactory Factory = (nodes, steps, firstStep, batch, onParameters) => new RunProgress(nodes, steps, firstStep, batch, onParameters);

    private readonly Dictionary<string, (long Done, double Loss)> _nodes = nodes.ToDictionary(n => n, _ => (firstStep, double.NaN));
    private readonly long _firstStep = firstStep;
    private readonly Stopwatch _clock = new();
    private readonly object _gate = new();
    /// <summary>The engine's plain lines, when the console is not a terminal.</summary>
    private readonly LineProgress _lines = new(nodes, steps, firstStep, batch, null, Console.WriteLine);
    private Dictionary<string, ProgressTask>? _bars;
    private ProgressTask? _total;

    /// <summary>Runs the training with the progress shown; plain lines when the console is not interactive.</summary>
    public T Show<T>(Func<T> train)
    {
        _clock.Start();
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected) return _lines.Show(train);
        return AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                lock (_gate)
                {
                    _total = context.AddTask("steps", maxValue: steps);
                    _total.Value = _firstStep;
                    _bars = nodes.ToDictionary(n => n, n => { var t = context.AddTask(Markup.Escape(n), maxValue: steps); t.Value = _firstStep; return t; });
                }
                return train();
            });
    }

    public void StepDone(long step, string node, double loss)
    {
        lock (_gate)
        {
            if (_bars is null || _total is null)
            {
                _lines.StepDone(step, node, loss);
                return;
            }
            if (!_nodes.ContainsKey(node)) return;
            _nodes[node] = (step + 1, double.IsNaN(loss) ? _nodes[node].Loss : loss);
            long finished = _nodes.Values.Min(n => n.Done);
            double imagesPerSecond = (finished - _firstStep) * batch / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
            var bar = _bars[node];
            bar.Value = step + 1;
            bar.Description = Markup.Escape(double.IsNaN(_nodes[node].Loss) ? node : $"{node}  loss {_nodes[node].Loss:F4}");
            _total.Value = finished;
            _total.Description = $"steps  {imagesPerSecond:F0} images/s";
        }
    }

    public void ParametersAt(long step, IReadOnlyDictionary<string, Parameters> parameters) => onParameters?.Invoke(step, parameters);
}
