using System.CommandLine;
using System.Text.Json.Nodes;
using Plastic.Sim.Distributed;
using Plastic.Sim.Protocol;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Cli;

/// <summary>`plastic trace &lt;run-folder&gt;`: the traffic matrix of a run and its locality verdict.</summary>
public static class TraceCommand
{
    public static Command Build()
    {
        var folder = new Argument<string>("run-folder") { Description = "A folder written by plastic run." };
        var command = new Command("trace", "Print a run's traffic matrix (edge x kind: messages, bytes, mean latency) and whether it was local.") { folder };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(folder)!;
            string configPath = Path.Combine(dir, "config.resolved.json"), spansPath = Path.Combine(dir, "traces.jsonl");
            if (!File.Exists(configPath)) throw new ArgumentException($"{dir}: no config.resolved.json; is it a run folder written by plastic run?");
            if (!File.Exists(spansPath)) throw new ArgumentException($"{dir}: no traces.jsonl; the run was not traced.");
            var config = Plastic.Experiments.Runs.RunConfigFile.Read(configPath);
            var spec = Plastic.Experiments.Runs.RunConfigFile.Network(config, configPath);
            string graph = config["graph"]?.GetValue<string>() ?? "local";
            // A cluster run: the spans of each worker process are in traces.<role>.jsonl beside the driver's.
            var files = TrafficMatrix.SpanFiles(dir);
            var rows = TrafficMatrix.Read(files);
            if (rows.Count == 0)
                throw new InvalidDataException($"{spansPath}: no message spans; the run traced nothing (stopped before its first step?), so there is no traffic to judge.");
            var placement = config["run"]?["placement"]?.GetValue<string>() is { } p ? Placement.Parse(p) : null;

            Console.WriteLine($"run {dir}: network {spec.Name}, graph {graph}" +
                (placement is null ? "" : $", over processes: {Placement.DriverRole} (input, monitor, unplaced nodes); {placement}; spans from {files.Count} files"));
            Console.WriteLine($"{"from",-10} {"to",-10} {"kind",-17} {"messages",9} {"bytes",14} {"mean latency",13}");
            foreach (var r in rows)
                Console.WriteLine($"{r.From,-10} {r.To,-10} {r.Kind,-17} {r.Messages,9} {r.Bytes,14:N0} {(double.IsNaN(r.MeanLatencyMicros) ? "-" : $"{r.MeanLatencyMicros / 1000:F3} ms"),13}"
                    + (TrafficMatrix.IsInstrument(r) ? "  (instrument: not judged)" : "")
                    + (placement is not null && placement.Of(r.From) != placement.Of(r.To) ? $"  crosses processes: {placement.Of(r.From)} -> {placement.Of(r.To)}{Arrivals(r)}" : ""));
            Console.WriteLine();
            if (placement is not null)
            {
                var crossing = rows.Where(r => placement.Of(r.From) != placement.Of(r.To)).ToList();
                Console.WriteLine($"between processes: {crossing.Sum(r => r.Messages):N0} messages, {crossing.Sum(r => r.Bytes):N0} bytes on {crossing.Count} edge-kinds; " +
                    $"within processes: {rows.Except(crossing).Sum(r => r.Messages):N0} messages, {rows.Except(crossing).Sum(r => r.Bytes):N0} bytes");
                var ways = crossing.SelectMany(r => r.Arrivals).GroupBy(a => a.Key, a => a.Value).Select(g => $"{g.Sum():N0} {g.Key}").Order(StringComparer.Ordinal).ToList();
                if (ways.Count > 0)
                    Console.WriteLine($"tensors between processes, by the way they came: {string.Join(", ", ways)} (copies of each tensor's bytes: " +
                        "2 by Plastic through shared memory; 2 by Plastic and 2 by the kernel on a TCP lane; about 9 in a frame)");
                Console.WriteLine();
            }
            var violations = TrafficMatrix.LocalityViolations(rows, GraphWiring.Local(spec));
            if (violations.Count == 0)
            {
                Console.WriteLine($"verdict: {TrafficMatrix.LocalVerdict}");
            }
            else
            {
                Console.WriteLine($"verdict: not local; these crossed layer boundaries{(graph == "backprop" ? " (expected of the backprop graph)" : "")}:");
                foreach (var v in violations) Console.WriteLine($"  {v}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>How an edge's tensors came from the other process: one way, or each way with its count.</summary>
    private static string Arrivals(TrafficRow row) => row.Arrivals.Count switch
    {
        0 => "",
        1 => $", {row.Arrivals.Keys.Single()}",
        _ => ", " + string.Join(", ", row.Arrivals.OrderByDescending(a => a.Value).Select(a => $"{a.Value:N0} {a.Key}")),
    };
}
