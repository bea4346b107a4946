using System.Text.Json;
using System.Text.Json.Nodes;

namespace Plastic.Topology;

/// <summary>
/// Network specs as JSON files. Field names are camelCase; unknown fields are errors; omitted
/// optional fields take the defaults of <see cref="LayerSpec"/>. Loading also validates.
/// </summary>
public static class NetworkSpecJson
{
    private static readonly Dictionary<string, LayerKind> Kinds = new() { ["conv"] = LayerKind.Conv, ["linear"] = LayerKind.Linear };
    private static readonly Dictionary<string, Activation> Activations = new() { ["relu"] = Activation.Relu, ["identity"] = Activation.Identity };
    private static readonly Dictionary<string, EdgeKind> EdgeKinds = new() { ["direct-feedback"] = EdgeKind.DirectFeedback, ["forward"] = EdgeKind.Forward };

    public static NetworkSpec Load(string path)
    {
        if (!File.Exists(path)) throw new SpecException($"{path}: no such spec file.");
        return Parse(File.ReadAllText(path), path);
    }

    public static NetworkSpec Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new SpecException($"{source}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}");
        }
        using (document)
        {
            var root = new JsonFields(document.RootElement, source, "name", "input", "rule", "layers", "feedback");
            var input = root.RequiredObject("input", "channels", "height", "width");
            var spec = new NetworkSpec(
                root.RequiredString("name"),
                new InputSpec(input.RequiredInt("channels"), input.OptionalInt("height") ?? 1, input.OptionalInt("width") ?? 1),
                root.Array("layers", required: true).Select((e, i) => ReadLayer(e, $"{source}: layers[{i}]")).ToList(),
                root.Array("feedback", required: false).Select((e, i) => ReadEdge(e, $"{source}: feedback[{i}]")).ToList(),
                root.RequiredString("rule"));
            NetworkValidator.Validate(spec, source);
            return spec;
        }
    }

    private static readonly string[] LayerFields = ["name", "kind", "width", "kernel", "stride", "padding", "activation", "maxPool", "lossPool", "bias", "rule"];

    private static LayerSpec ReadLayer(JsonElement element, string where)
    {
        // Errors name the layer as well as its index once its name is known.
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
            where = $"{where} '{n.GetString()}'";
        var f = new JsonFields(element, where, LayerFields);
        string name = f.RequiredString("name");
        var kind = f.OptionalEnum("kind", Kinds) ?? throw new SpecException($"{where}: field 'kind' is missing; expected one of: conv, linear.");
        var defaults = new LayerSpec(name, kind, 1);
        bool conv = kind == LayerKind.Conv;
        return new LayerSpec(
            name, kind, f.RequiredInt("width"),
            f.OptionalInt("kernel") ?? (conv ? defaults.Kernel : 1),
            f.OptionalInt("stride") ?? defaults.Stride,
            f.OptionalInt("padding") ?? (conv ? defaults.Padding : 0),
            f.OptionalEnum("activation", Activations) ?? defaults.Activation,
            f.OptionalInt("maxPool"),
            f.OptionalInt("lossPool"),
            f.OptionalBool("bias") ?? defaults.Bias,
            f.OptionalString("rule"));
    }

    private static EdgeSpec ReadEdge(JsonElement element, string where)
    {
        var f = new JsonFields(element, where, "from", "to", "kind");
        return new EdgeSpec(f.RequiredString("from"), f.RequiredString("to"), f.OptionalEnum("kind", EdgeKinds) ?? EdgeKind.DirectFeedback);
    }

    /// <summary>The spec as JSON with every field written out (the resolved form saved with a run).</summary>
    public static string Serialize(NetworkSpec spec)
    {
        var layers = new JsonArray();
        foreach (var l in spec.Layers)
            layers.Add(new JsonObject
            {
                ["name"] = l.Name,
                ["kind"] = Kinds.First(k => k.Value == l.Kind).Key,
                ["width"] = l.Width,
                ["kernel"] = l.Kernel,
                ["stride"] = l.Stride,
                ["padding"] = l.Padding,
                ["activation"] = Activations.First(a => a.Value == l.Activation).Key,
                ["maxPool"] = l.MaxPool,
                ["lossPool"] = l.LossPool,
                ["bias"] = l.Bias,
                ["rule"] = l.Rule,
            });
        var feedback = new JsonArray();
        foreach (var e in spec.Feedback)
            feedback.Add(new JsonObject { ["from"] = e.From, ["to"] = e.To, ["kind"] = EdgeKinds.First(k => k.Value == e.Kind).Key });
        var root = new JsonObject
        {
            ["name"] = spec.Name,
            ["input"] = new JsonObject { ["channels"] = spec.Input.Channels, ["height"] = spec.Input.Height, ["width"] = spec.Input.Width },
            ["rule"] = spec.Rule,
            ["layers"] = layers,
            ["feedback"] = feedback,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
