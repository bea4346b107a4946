using System.Text.Encodings.Web;
using System.Text.Json;
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
}
