using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Plastic.Datasets.Catalog;

namespace Plastic.Experiments.Runs;

/// <summary>
/// A data set as a run spec names it: a catalogue name ("cifar10"), "synthetic", or a folder of your own
/// images, <c>{ "images": "path", "labels": "folders" | "file.csv", "resize": 36, "strict": true }</c>:
/// every PNG / JPEG below the path; labels from one subfolder per class or a CSV of file,label lines (none:
/// unlabelled, for pre-training); the shorter side resized to <c>resize</c> (default: the network's input
/// side) and the centre cut to the network's input; an image that does not decode skipped and named, or
/// with strict an error.
/// </summary>
[JsonConverter(typeof(DatasetRefConverter))]
public sealed record DatasetRef
{
    public const string Synthetic = "synthetic";

    /// <summary>A catalogue name or "synthetic"; null for a folder.</summary>
    public string? Name { get; init; }
    public string? Images { get; init; }
    public string? Labels { get; init; }
    public int? Resize { get; init; }
    public bool Strict { get; init; }

    public static implicit operator DatasetRef(string name) => new() { Name = name };

    public bool IsSynthetic => Name == Synthetic;
    public bool IsFolder => Images is not null;

    /// <summary>The catalogue name of a catalogue set (a folder or synthetic data has none).</summary>
    public string? CatalogueName => IsFolder || IsSynthetic ? null : Name;

    public override string ToString() => Name ?? $"images {Images}{(Labels is null ? "" : $" (labels {Labels})")}";

    /// <summary>
    /// Refuses a spec value that is not a data set, naming <paramref name="key"/> and <paramref name="source"/>:
    /// text must be a catalogue name or synthetic (<paramref name="allowSynthetic"/>); an object takes images
    /// (required), labels, resize and strict only.
    /// </summary>
    public static void CheckNode(JsonNode? node, string key, string source, bool allowSynthetic)
    {
        string names = string.Join(", ", DatasetCatalog.All.Select(d => d.Name));
        string synthetic = allowSynthetic ? ", synthetic" : "";
        switch (node)
        {
            case null: return;
            case JsonValue v when v.TryGetValue<string>(out var name):
                if (name == Synthetic && allowSynthetic) return;
                if (DatasetCatalog.All.Any(d => d.Name == name)) return;
                throw new ArgumentException($"{source}: {key} '{name}': not a data set Plastic reads; data sets: {names}{synthetic}; or a folder of images, {{ \"images\": \"path\" }}.");
            case JsonObject o:
                foreach (var (k, value) in o)
                {
                    bool ok = k switch
                    {
                        "images" or "labels" => value is JsonValue s && s.TryGetValue<string>(out var text) && text.Trim().Length > 0,
                        "resize" => value is JsonValue r && r.TryGetValue<int>(out int side) && side >= 1,
                        "strict" => value is JsonValue b && b.TryGetValue<bool>(out _),
                        _ => throw new ArgumentException($"{source}: unknown key '{key}.{k}'. Known in {key}: images, labels, resize, strict."),
                    };
                    if (!ok) throw new ArgumentException($"{source}: {key}.{k}: " + k switch
                    {
                        "resize" => "a whole number of pixels, at least 1 (the shorter side before the centre crop).",
                        "strict" => "true or false.",
                        _ => "text in quotes: " + (k == "images" ? "the folder of images." : "\"folders\" (one subfolder per class) or a CSV file of file,label lines."),
                    });
                }
                if (!o.ContainsKey("images")) throw new ArgumentException($"{source}: {key} is an object without 'images': name the folder, {{ \"images\": \"path\" }}.");
                return;
            default:
                throw new ArgumentException($"{source}: {key}: a data set's name ({names}{synthetic}) or a folder of images, {{ \"images\": \"path\" }}.");
        }
    }
}

/// <summary>A DatasetRef as text (a name) or an object (a folder); <see cref="DatasetRef.CheckNode"/> has refused anything else with a clear message.</summary>
public sealed class DatasetRefConverter : JsonConverter<DatasetRef>
{
    public override DatasetRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return new DatasetRef { Name = reader.GetString() };
        var o = JsonNode.Parse(ref reader) as JsonObject ?? throw new JsonException("a data set is a name or an object with 'images'.");
        return new DatasetRef
        {
            Images = (string?)o["images"] ?? throw new JsonException("a folder of images needs 'images'."),
            Labels = (string?)o["labels"],
            Resize = (int?)o["resize"],
            Strict = (bool?)o["strict"] ?? false,
        };
    }

    public override void Write(Utf8JsonWriter writer, DatasetRef value, JsonSerializerOptions options)
    {
        if (!value.IsFolder)
        {
            writer.WriteStringValue(value.Name);
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("images", value.Images);
        if (value.Labels is not null) writer.WriteString("labels", value.Labels);
        if (value.Resize is { } r) writer.WriteNumber("resize", r);
        if (value.Strict) writer.WriteBoolean("strict", true);
        writer.WriteEndObject();
    }
}
