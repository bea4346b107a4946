using System.Text.Json;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Tracing;

/// <summary>
/// Traffic on one edge of one kind: how many messages, how many payload bytes, the mean send-to-handle latency,
/// and, for messages from another process, how many tensors came which way (<see cref="SimTelemetry.ArrivalName"/>).
/// </summary>
public sealed record TrafficRow(string From, string To, MessageKind Kind, long Messages, long Bytes, double MeanLatencyMicros)
{
    public IReadOnlyDictionary<string, long> Arrivals { get; init; } = new Dictionary<string, long>();

    public bool Equals(TrafficRow? other) =>
        other is not null && (From, To, Kind, Messages, Bytes) == (other.From, other.To, other.Kind, other.Messages, other.Bytes)
        && MeanLatencyMicros.Equals(other.MeanLatencyMicros) && Arrivals.Count == other.Arrivals.Count && !Arrivals.Except(other.Arrivals).Any();

    public override int GetHashCode() => HashCode.Combine(From, To, Kind, Messages, Bytes);
}

/// <summary>
/// The traffic matrix of a run, rebuilt from its span file (one span per handled message), and the
/// locality verdict against the graph's declared wiring.
/// </summary>
public static class TrafficMatrix
{
    public const string LocalVerdict = "local: only forward activations and declared modulatory signals crossed layer boundaries";

    public static IReadOnlyList<TrafficRow> Read(string spansPath) => Read([spansPath]);

    /// <summary>
    /// The span files of a run folder: traces.jsonl (the driver's process) and traces.&lt;role&gt;.jsonl (each
    /// cluster worker's), in that order.
    /// </summary>
    public static IReadOnlyList<string> SpanFiles(string runFolder) =>
        [.. new[] { Path.Combine(runFolder, "traces.jsonl") }.Where(File.Exists)
            .Concat(Directory.EnumerateFiles(runFolder, "traces.*.jsonl").Order(StringComparer.Ordinal))];

    /// <summary>One matrix from the spans of several processes: each message is handled, and its span written, in one of them.</summary>
    public static IReadOnlyList<TrafficRow> Read(IReadOnlyList<string> spanFiles)
    {
        var cells = new Dictionary<(string, string, MessageKind), Cell>();
        foreach (var spansPath in spanFiles) Add(spansPath, cells);
        return cells.Select(c => new TrafficRow(c.Key.Item1, c.Key.Item2, c.Key.Item3, c.Value.Count, c.Value.Bytes,
                c.Value.Timed == 0 ? double.NaN : c.Value.Latency / c.Value.Timed) { Arrivals = c.Value.Arrivals })
            .OrderBy(r => r.Kind).ThenBy(r => r.From, StringComparer.Ordinal).ThenBy(r => r.To, StringComparer.Ordinal).ToList();
    }

    private sealed class Cell
    {
        public long Count, Bytes, Timed;
        public double Latency;
        public Dictionary<string, long> Arrivals { get; } = [];
    }

    private static void Add(string spansPath, Dictionary<(string, string, MessageKind), Cell> cells)
    {
        if (!File.Exists(spansPath)) throw new FileNotFoundException($"No span file at {spansPath}.", spansPath);
        int lineNumber = 0;
        var lines = File.ReadAllLines(spansPath);
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement tags;
            try
            {
                using var doc = JsonDocument.Parse(line);
                tags = doc.RootElement.GetProperty("tags").Clone();
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException)
            {
                // The last line of a run that was killed may be cut short; anywhere else a bad line is a damaged file.
                if (lineNumber == lines.Length && e is JsonException) continue;
                throw new InvalidDataException($"{spansPath}:{lineNumber}: not a span line ({e.Message}).");
            }
            if (!tags.TryGetProperty(SimTelemetry.KindTag, out var kindTag) || !tags.TryGetProperty(SimTelemetry.FromTag, out var from)) continue;
            var kind = Enum.Parse<MessageKind>(kindTag.GetString()!);
            var key = (from.GetString()!, tags.GetProperty(SimTelemetry.NodeTag).GetString()!, kind);
            if (!cells.TryGetValue(key, out var cell)) cells[key] = cell = new Cell();
            cell.Count++;
            cell.Bytes += tags.TryGetProperty(SimTelemetry.BytesTag, out var b) ? b.GetInt64() : 0;
            if (tags.TryGetProperty(SimTelemetry.LatencyTag, out var l)) { cell.Latency += l.GetDouble(); cell.Timed++; }
            if (tags.TryGetProperty(SimTelemetry.ArrivalTag, out var a) && a.GetString() is { } arrival) cell.Arrivals[arrival] = cell.Arrivals.GetValueOrDefault(arrival) + 1;
        }
    }

    /// <summary>
    /// What crossed an edge that a local graph does not declare for it, or carried error gradients;
    /// empty when the traffic is local. Snapshots to the alignment monitor are measurement, not
    /// learning, and are left out.
    /// </summary>
    public static IReadOnlyList<string> LocalityViolations(IEnumerable<TrafficRow> rows, Wiring localWiring) =>
        rows.Where(r => !IsInstrument(r) && (r.Kind == MessageKind.Backward || !localWiring.Allows(r.From, r.To, r.Kind)))
            .Select(r => $"{r.Kind} on {r.From} -> {r.To}: {r.Messages} messages, {r.Bytes} bytes" +
                         (r.Kind == MessageKind.Backward ? " (error gradients)" : " (not declared for local learning)"))
            .ToList();

    /// <summary>Traffic of the alignment monitor (parameter snapshots), shown but not judged.</summary>
    public static bool IsInstrument(TrafficRow row) => row.Kind == MessageKind.Snapshot && row.To == GraphWiring.MonitorNode;
}
