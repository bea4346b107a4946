using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Plastic.Experiments;

/// <summary>
/// How every results file is written: indented, readable (a rule stays "clapp++", not "clapp\u002B\u002B"),
/// NaN and infinities as names rather than an error.
/// </summary>
public static class JsonOutput
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        // Reflection named explicitly: hosts built for trimming (a `dotnet run file.cs` script) turn it off by default.
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// The one writer of a results file (a run's results.json and probe.json, a comparison's results.json,
    /// a theory figure's summary): the document with the commit that produced it and, where the numbers
    /// come from a run, the name of the resolved config beside it; written with <see cref="Options"/>.
    /// </summary>
    public static void WriteResults(string path, JsonObject document, string? config = null)
    {
        document["commit"] ??= Provenance.GitCommit();
        if (config is not null) document["config"] ??= config;
        File.WriteAllText(path, document.ToJsonString(Options));
    }
}
