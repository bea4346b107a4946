using System.Diagnostics;
using System.Text;
using System.Text.Json;
using OpenTelemetry;

namespace Plastic.Sim.Tracing;

/// <summary>
/// Writes each finished span as one JSON line (OpenTelemetry .NET has no file exporter): trace and
/// span ids, parent, name, start (UTC), duration in microseconds, and the tags. Python reads it with
/// one pandas.read_json(..., lines=True).
/// </summary>
public sealed class JsonlSpanExporter : BaseExporter<Activity>
{
    private readonly StreamWriter _writer;
    private readonly object _gate = new();

    /// <param name="append">Add to the file's spans (a resumed run keeps those of the steps before its checkpoint) instead of starting it afresh.</param>
    public JsonlSpanExporter(string path, bool append = false)
    {
        Path = path;
        _writer = new StreamWriter(path, append, new UTF8Encoding(false));
    }

    public string Path { get; }

    public override ExportResult Export(in Batch<Activity> batch)
    {
        lock (_gate)
        {
            foreach (var span in batch) _writer.WriteLine(Line(span));
            _writer.Flush();
        }
        return ExportResult.Success;
    }

    internal static string Line(Activity span)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("trace_id", span.TraceId.ToHexString());
            json.WriteString("span_id", span.SpanId.ToHexString());
            json.WriteString("parent_span_id", span.ParentSpanId == default ? "" : span.ParentSpanId.ToHexString());
            json.WriteString("name", span.DisplayName);
            json.WriteString("start_utc", span.StartTimeUtc.ToString("O"));
            json.WriteNumber("duration_us", span.Duration.Ticks / 10.0);
            json.WriteStartObject("tags");
            foreach (var tag in span.TagObjects)
            {
                switch (tag.Value)
                {
                    case long l: json.WriteNumber(tag.Key, l); break;
                    case int i: json.WriteNumber(tag.Key, i); break;
                    case double d: json.WriteNumber(tag.Key, d); break;
                    default: json.WriteString(tag.Key, tag.Value?.ToString()); break;
                }
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) lock (_gate) _writer.Dispose();
        base.Dispose(disposing);
    }
}
