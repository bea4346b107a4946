namespace Plastic.Experiments.Runs;

/// <summary>The OTLP endpoint a run exports to when OTEL_EXPORTER_OTLP_ENDPOINT is set: checked before the run, as the exporter would only drop spans.</summary>
internal static class TelemetryEndpoint
{
    public const string Variable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static void Check()
    {
        string? endpoint = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(endpoint)) return;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"{Variable} '{endpoint}': not an http(s) address; give one such as http://localhost:4317, or unset it.");
    }
}
