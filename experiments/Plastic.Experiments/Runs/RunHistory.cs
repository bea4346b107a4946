using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Plastic.Sim;
using Plastic.Sim.Actors;
using Plastic.Sim.Tracing;

namespace Plastic.Experiments.Runs;

/// <summary>
/// A run's history as it happens: every node's loss appended to metrics.csv as its step completes, so a
/// run that is killed keeps the losses of the steps it did (a cluster worker's layers report a step together,
/// once the slowest of them has done it). A resumed run keeps the history of the steps
/// before the checkpoint it resumed from (losses and spans) and drops what came after it, which the run
/// computes again. Passes every call on to the run's other observer (progress, online probe).
/// </summary>
internal sealed class RunHistory : IRunObserver, IDisposable
{
    public const string MetricsFile = "metrics.csv", TracesFile = "traces.jsonl";
    private const string Header = "step,node,loss";
    private readonly IRunObserver _inner;
    private readonly StreamWriter _metrics;
    private readonly object _gate = new();

    /// <param name="firstStep">The step the run starts at: 0, or the step after the checkpoint it resumes from.</param>
    public RunHistory(string folder, long firstStep, IRunObserver inner)
    {
        _inner = inner;
        string metrics = Path.Combine(folder, MetricsFile);
        var kept = firstStep > 0 ? RowsBefore(metrics, firstStep) : [];
        TrimTraces(Path.Combine(folder, TracesFile), firstStep);
        _metrics = new StreamWriter(metrics, append: false, new UTF8Encoding(false)) { AutoFlush = true };
        _metrics.WriteLine(Header);
        foreach (var row in kept) _metrics.WriteLine(row);
    }

    public void StepDone(long step, string node, double loss)
    {
        if (!double.IsNaN(loss))
            lock (_gate) _metrics.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step},{node},{loss:R}"));
        _inner.StepDone(step, node, loss);
    }

    public void ParametersAt(long step, IReadOnlyDictionary<string, Parameters> parameters) => _inner.ParametersAt(step, parameters);

    public void Dispose()
    {
        lock (_gate) _metrics.Dispose();
    }

    /// <summary>
    /// The folder's metrics.csv in its final order (nodes as given, then steps): the rows written while
    /// training, the kept ones of an earlier attempt included, one per node and step.
    /// </summary>
    public static void Finish(string folder, IReadOnlyList<string> nodeOrder)
    {
        string path = Path.Combine(folder, MetricsFile);
        var rank = nodeOrder.Select((node, i) => (node, i)).ToDictionary(x => x.node, x => x.i);
        // A step replayed after a recovered fault was written twice: the replay's row, the later one, stays.
        var rows = File.ReadLines(path).Skip(1).Select(Parse).OfType<(long Step, string Node, string Line)>()
            .GroupBy(r => (r.Node, r.Step)).Select(g => g.Last())
            .OrderBy(r => rank.GetValueOrDefault(r.Node, int.MaxValue)).ThenBy(r => r.Step).Select(r => r.Line);
        File.WriteAllLines(path, [Header, .. rows]);
    }

    /// <summary>
    /// The losses of the whole run: those of the last attempt, with the steps it did not run (before the
    /// checkpoint it resumed or replayed from) taken from the folder's finished metrics.csv.
    /// </summary>
    public static ImmutableDictionary<string, ImmutableArray<double>> WholeRun(string folder, ImmutableDictionary<string, ImmutableArray<double>> losses)
    {
        var filled = losses.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        foreach (var (step, node, line) in File.ReadLines(Path.Combine(folder, MetricsFile)).Skip(1).Select(Parse).OfType<(long Step, string Node, string Line)>())
            if (filled.TryGetValue(node, out var values) && step < values.Length && double.IsNaN(values[step]))
                values[step] = double.Parse(line[(line.LastIndexOf(',') + 1)..], CultureInfo.InvariantCulture);
        return filled.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray());
    }

    private static List<string> RowsBefore(string path, long firstStep) =>
        !File.Exists(path) ? [] : [.. File.ReadLines(path).Skip(1).Select(Parse).OfType<(long Step, string Node, string Line)>().Where(r => r.Step < firstStep).Select(r => r.Line)];

    /// <summary>A metrics row, or null for a line cut short by a kill.</summary>
    private static (long Step, string Node, string Line)? Parse(string line)
    {
        var parts = line.Split(',');
        return parts.Length == 3 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out long step)
            && double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? (step, parts[1], line) : null;
    }

    /// <summary>Keeps the spans of the steps before <paramref name="firstStep"/> (none for a fresh run); a line cut short by a kill is dropped.</summary>
    private static void TrimTraces(string path, long firstStep)
    {
        if (!File.Exists(path)) return;
        if (firstStep == 0)
        {
            File.Delete(path);
            return;
        }
        var kept = File.ReadLines(path).Where(line => StepOf(line) is { } step && step < firstStep).ToList();
        File.WriteAllLines(path, kept);
    }

    private static long? StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.GetProperty("tags").TryGetProperty(SimTelemetry.StepTag, out var step) ? step.GetInt64() : long.MaxValue;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
