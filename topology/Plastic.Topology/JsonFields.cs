using System.Text.Json;

namespace Plastic.Topology;

/// <summary>
/// Reads one JSON object field by field, so that every error can name where it is (file, layer,
/// field) and keys nobody asked for are errors rather than silently ignored.
/// </summary>
internal sealed class JsonFields
{
    private readonly JsonElement _element;
    private readonly string _where;
    private readonly HashSet<string> _allowed;

    public JsonFields(JsonElement element, string where, params string[] allowed)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new SpecException($"{where}: expected a JSON object, found {element.ValueKind}.");
        _element = element;
        _where = where;
        _allowed = [.. allowed];
        foreach (var property in element.EnumerateObject())
            if (!_allowed.Contains(property.Name))
                throw new SpecException($"{where}: unknown field '{property.Name}'. Known fields: {string.Join(", ", allowed)}.");
    }

    public string Where => _where;

    private JsonElement? Get(string name) =>
        _element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public string RequiredString(string name) =>
        OptionalString(name) ?? throw new SpecException($"{_where}: field '{name}' is missing.");

    public string? OptionalString(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new SpecException($"{_where}: field '{name}' must be a string, found {v.ValueKind}.");
    }

    public int RequiredInt(string name) =>
        OptionalInt(name) ?? throw new SpecException($"{_where}: field '{name}' is missing.");

    public int? OptionalInt(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)
            ? i
            : throw new SpecException($"{_where}: field '{name}' must be an integer, found {v.GetRawText()}.");
    }

    public bool? OptionalBool(string name)
    {
        if (Get(name) is not { } v) return null;
        return v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean()
            : throw new SpecException($"{_where}: field '{name}' must be true or false, found {v.GetRawText()}.");
    }

    public T? OptionalEnum<T>(string name, IReadOnlyDictionary<string, T> names) where T : struct
    {
        if (OptionalString(name) is not { } text) return null;
        return names.TryGetValue(text, out var value)
            ? value
            : throw new SpecException($"{_where}: field '{name}' is '{text}'; expected one of: {string.Join(", ", names.Keys)}.");
    }

    public JsonFields RequiredObject(string name, params string[] allowed) =>
        Get(name) is { } v ? new JsonFields(v, $"{_where}.{name}", allowed) : throw new SpecException($"{_where}: field '{name}' is missing.");

    public IEnumerable<JsonElement> Array(string name, bool required)
    {
        if (Get(name) is not { } v)
            return required ? throw new SpecException($"{_where}: field '{name}' is missing.") : [];
        return v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : throw new SpecException($"{_where}: field '{name}' must be an array, found {v.ValueKind}.");
    }
}
