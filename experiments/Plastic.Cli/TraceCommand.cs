using System.CommandLine;
using System.Text.Json.Nodes;
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
            var config = JsonNode.Parse(File.ReadAllText(configPath))!;
            var spec = NetworkSpecJson.Parse(config["spec"]!.ToJsonString(), configPath + ":spec");
            string graph = config["graph"]?.GetValue<string>() ?? "local";
            var rows = TrafficMatrix.Read(spansPath);

            Console.WriteLine($"run {dir}: network {spec.Name}, graph {graph}");
            Console.WriteLine($"{"from",-10} {"to",-10} {"kind",-17} {"messages",9} {"bytes",14} {"mean latency",13}");
            foreach (var r in rows)
                Console.WriteLine($"{r.From,-10} {r.To,-10} {r.Kind,-17} {r.Messages,9} {r.Bytes,14:N0} {(double.IsNaN(r.MeanLatencyMicros) ? "-" : $"{r.MeanLatencyMicros / 1000:F3} ms"),13}"
                    + (TrafficMatrix.IsInstrument(r) ? "  (instrument: not judged)" : ""));
            Console.WriteLine();
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
}
