using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Plastic.Datasets.Numpy;

/// <summary>
/// The safetensors format (Hugging Face's, read by safetensors.torch.load_file): an 8-byte little-endian
/// header length, a JSON header naming each tensor's dtype, shape and byte range, padded with spaces to a
/// multiple of 8, then the tensors' bytes back to back. float32 only, which is all Plastic stores.
/// </summary>
public static class Safetensors
{
    public static void Write(string path, IEnumerable<(string Name, NpyArray Array)> arrays, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = arrays.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 }) header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        long offset = 0;
        foreach (var (name, array) in list)
        {
            if (name == "__metadata__" || header.ContainsKey(name)) throw new ArgumentException($"{path}: tensor name '{name}' is reserved or repeated.");
            long end = offset + (long)array.Values.Length * sizeof(float);
            header[name] = new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(array.Shape.Select(d => (JsonNode)d).ToArray()), ["data_offsets"] = new JsonArray(offset, end) };
            offset = end;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        string partial = path + ".partial";
        try
        {
            using (var stream = File.Create(partial))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
                stream.Write(length);
                stream.Write(json);
                for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
                var bytes = new byte[4];
                foreach (var (_, array) in list)
                    foreach (float v in array.Values)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(bytes, v);
                        stream.Write(bytes);
                    }
            }
            File.Move(partial, path, overwrite: true);
        }
        catch
        {
            // A disk that filled up, a folder that went away: no half-written file is left behind.
            File.Delete(partial);
            throw;
        }
    }

    public static IReadOnlyDictionary<string, NpyArray> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: {bytes.Length} bytes, too short for a safetensors header.");
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (length > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"{path}: header of {length} bytes in a file of {bytes.Length}.");
        JsonObject header;
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)length)) as JsonObject ?? throw new InvalidDataException($"{path}: the header is not a JSON object."); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: the header is not valid JSON: {e.Message}"); }
        int data = 8 + (int)length;
        var result = new Dictionary<string, NpyArray>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            string dtype = node?["dtype"]?.GetValue<string>() ?? "?";
            if (dtype != "F32") throw new InvalidDataException($"{path}: tensor '{name}' is {dtype}; only F32 is read.");
            var shape = node!["shape"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(o => o!.GetValue<long>()).ToArray();
            long count = shape.Aggregate(1L, (a, d) => a * d);
            if (offsets.Length != 2 || offsets[1] - offsets[0] != count * sizeof(float) || data + offsets[1] > bytes.Length)
                throw new InvalidDataException($"{path}: tensor '{name}': byte range [{string.Join(", ", offsets)}] does not hold shape [{string.Join(", ", shape)}] of F32.");
            var values = new float[count];
            for (long i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(data + offsets[0] + i * 4), 4));
            result[name] = new NpyArray(shape, values);
        }
        return result;
    }
}
