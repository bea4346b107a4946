using OpenTelemetry;
using OpenTelemetry.Trace;
using Plastic.Sim.Tracing;

namespace Plastic.Cli.Cluster;

/// <summary>Spans of this process to a JSON-lines file (a worker's share of a run's traces).</summary>
internal static class Tracing
{
    public static IDisposable ToFile(string path) =>
        Sdk.CreateTracerProviderBuilder().AddSource(SimTelemetry.Name).AddProcessor(new BatchActivityExportProcessor(new JsonlSpanExporter(path))).Build();
}
