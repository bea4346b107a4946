using System.Text.Json;
using System.Text.Json.Serialization;

namespace Plastic.Datasets.Readers;

/// <summary>A source file as the cache saw it: its path under the root, size and last write time (UTC ticks).</summary>
public sealed record FileStamp(string Path, long Bytes, long Modified)
{
    public static FileStamp Of(string root, string path)
    {
        var info = new FileInfo(path);
        return new FileStamp(System.IO.Path.GetRelativePath(root, path), info.Length, info.LastWriteTimeUtc.Ticks);
    }
}

/// <summary>An image's width and height as decoded, and how many images had them.</summary>
public sealed record ImageSizeCount(int Width, int Height, int Count);

/// <summary>One listed image of the cache: its stamp, label, decoded size, and why it was skipped (null: kept, in order).</summary>
public sealed record CachedEntry(FileStamp File, int Label, int Width, int Height, string? Skipped);

/// <summary>
/// What an image folder's cache holds, written after its pixels as the mark that they are whole: the
/// settings they were decoded with, every source file's stamp (a changed, added or removed file makes the
/// cache stale), the classes, and the statistics of the kept images.
/// </summary>
public sealed record ImageFolderManifest(int Format, string Root, string? Labels, FileStamp? LabelFile, int Channels, int Resize, int Crop,
    IReadOnlyList<string> Classes, IReadOnlyList<CachedEntry> Files, int Kept, double[] Mean, double[] Std)
{
    /// <summary>Bumped when the pixels' layout or the decoding changes, so older caches are rebuilt.</summary>
    public const int CurrentFormat = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The manifest in a file, or null when it is missing, not one, or of another format (a stale cache, rebuilt).</summary>
    public static ImageFolderManifest? TryRead(string path)
    {
        if (!System.IO.File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<ImageFolderManifest>(System.IO.File.ReadAllText(path), Json) is { Format: CurrentFormat } m ? m : null; }
        catch (Exception e) when (e is JsonException or NotSupportedException or IOException) { return null; }
    }

    /// <summary>The decoded sizes met, commonest first.</summary>
    public IReadOnlyList<ImageSizeCount> Sizes() =>
        [.. Files.Where(f => f.Skipped is null).GroupBy(f => (f.Width, f.Height)).OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Width)
            .Select(g => new ImageSizeCount(g.Key.Width, g.Key.Height, g.Count()))];
}
