using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Sim.Protocol;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>Spans per handled message, linked across actors, and the traffic matrix with its locality verdict.</summary>
[Collection("Tracing")]
public sealed class TracingTests
{
    private static readonly NetworkSpec Net = Presets.Mlp(12, [8, 6, 4], "clapp++");

    [Fact]
    public async Task A_traced_local_run_shows_only_forward_and_pairing_traffic_linked_per_step()
    {
        string path = Path.Combine(Path.GetTempPath(), $"plastic-spans-{Guid.NewGuid():N}.jsonl");
        try
        {
            using (Sdk.CreateTracerProviderBuilder().AddSource(SimTelemetry.Name).AddProcessor(new SimpleActivityExportProcessor(new JsonlSpanExporter(path))).Build())
                await Simulation.RunAsync(Net, new RunOptions(5, BatchSize: 4) { Schedule = new(MaxInFlight: 2) }, () => new CpuBackend(threads: 1));

            var rows = TrafficMatrix.Read(path);
            Assert.Equal(
                ["Forward fc1->fc2", "Forward fc2->fc3", "Forward input->fc1", "Pairing input->fc1", "Pairing input->fc2", "Pairing input->fc3"],
                rows.Select(r => $"{r.Kind} {r.From}->{r.To}"));
            Assert.All(rows, r => Assert.Equal(5, r.Messages));
            Assert.Equal(5L * 8 * 12 * sizeof(float), rows.Single(r => r.From == "input" && r.Kind == MessageKind.Forward).Bytes); // 2 views x 4 samples x 12 features
            Assert.Empty(TrafficMatrix.LocalityViolations(rows, GraphWiring.Local(Net)));

            // Every message span hangs off its step's root span, through the trace context carried in the messages.
            var spans = File.ReadLines(path).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.Clone()).ToList();
            Assert.Equal(5, spans.Select(s => s.GetProperty("trace_id").GetString()).Distinct().Count());
            var ids = spans.Select(s => s.GetProperty("span_id").GetString()).ToHashSet();
            Assert.All(spans.Where(s => s.GetProperty("name").GetString() != "step"), s => Assert.Contains(s.GetProperty("parent_span_id").GetString(), ids));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Gradient_traffic_or_undeclared_edges_make_the_verdict_not_local()
    {
        var wiring = GraphWiring.Local(Net);
        var rows = new[]
        {
            new TrafficRow("fc1", "fc2", MessageKind.Forward, 3, 300, 10),
            new TrafficRow("fc3", "fc2", MessageKind.Backward, 3, 96, 12),
            new TrafficRow("fc3", "fc1", MessageKind.TopDownReference, 3, 48, 12),
        };
        var violations = TrafficMatrix.LocalityViolations(rows, wiring);
        Assert.Equal(2, violations.Count);
        Assert.Contains(violations, v => v.StartsWith("Backward on fc3 -> fc2") && v.Contains("error gradients"));
        Assert.Contains(violations, v => v.StartsWith("TopDownReference on fc3 -> fc1") && v.Contains("not declared"));
    }

    [Fact]
    public void The_matrix_counts_how_the_tensors_of_each_edge_came_from_another_process()
    {
        string path = Path.Combine(Path.GetTempPath(), $"plastic-spans-{Guid.NewGuid():N}.jsonl");
        string Span(string from, string to, string? arrival) =>
            $"{{\"tags\":{{\"plastic.node\":\"{to}\",\"plastic.from\":\"{from}\",\"plastic.kind\":\"Forward\",\"plastic.bytes\":400" +
            (arrival is null ? "" : $",\"plastic.arrival\":\"{arrival}\"") + "}}";
        var shared = SimTelemetry.ArrivalName(TensorArrival.SharedMemory);
        var tcp = SimTelemetry.ArrivalName(TensorArrival.TcpLane);
        File.WriteAllLines(path, [Span("input", "c1", shared), Span("input", "c1", shared), Span("input", "c1", tcp), Span("c1", "c2", null)]);
        try
        {
            var rows = TrafficMatrix.Read(path);
            Assert.Equal(new Dictionary<string, long> { [shared] = 2, [tcp] = 1 }, rows.Single(r => r.From == "input").Arrivals);
            Assert.Empty(rows.Single(r => r.From == "c1").Arrivals);
            Assert.Equal("through shared memory", shared);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_damaged_span_file_names_the_line()
    {
        string path = Path.Combine(Path.GetTempPath(), $"plastic-spans-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, ["{\"tags\":{}}", "not json", "{\"tags\":{}}"]);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => TrafficMatrix.Read(path));
            Assert.Contains(":2:", e.Message);
            // The last line alone may be cut short (a run killed while writing it): it is left out.
            File.WriteAllLines(path, ["{\"tags\":{}}", "{\"tags\":{\"plas"]);
            Assert.Empty(TrafficMatrix.Read(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>Activity listeners are process-wide: a traced test runs alone so that no other test's spans land in its file.</summary>
[CollectionDefinition("Tracing", DisableParallelization = true)]
public sealed class TracingCollection;
