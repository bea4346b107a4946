using System.Security.Cryptography;
using System.Text;

namespace Plastic.Datasets.Readers;

/// <summary>
/// A folder of images as a run reads it: <see cref="Root"/> (absolute), its labels (null: none; "folders";
/// or a CSV file's absolute path), the channels (3: RGB, 1: grey), the shorter side's resize and the crop
/// (the network's input side), and whether an image that does not decode is an error (strict) or skipped.
/// </summary>
public sealed record ImageFolderSource(string Root, string? Labels, int Channels, int Resize, int Crop, bool Strict);

/// <summary>An image folder read through its cache: the images (mapped from the cache), what the cache recorded, where it is, and whether it was reused.</summary>
public sealed record ImageFolderData(LabelledImages Images, ImageFolderManifest Manifest, string CacheFile, bool Reused)
{
    public IReadOnlyList<SkippedImage> Skipped =>
        [.. Manifest.Files.Where(f => f.Skipped is not null).Select(f => new SkippedImage(Path.Combine(Manifest.Root, f.File.Path), f.Skipped!))];
}

/// <summary>
/// Decodes an image folder once into a cache beside it (<c>.plastic-cache</c> under the folder; where that
/// cannot be written, the user's cache folder): a file of the resized images, which later runs map into
/// memory, and a manifest of the source files' sizes and times, so a changed folder is read again. The
/// pixels and the manifest are written under temporary names and moved into place, the manifest last, and
/// a failure removes them: a cache is whole or absent, never half written.
/// </summary>
public static class ImageFolderCache
{
    public const string FolderName = ".plastic-cache";

    /// <summary>Images decoded between writes to the cache (bounded memory however large the folder).</summary>
    private const int Chunk = 2048;

    /// <summary>The folder's images, from its cache when that is current, else decoded (<paramref name="progress"/>: images done, of total) and cached.</summary>
    public static ImageFolderData Open(ImageFolderSource source, Action<string>? log = null, Action<int, int>? progress = null)
    {
        Check(source);
        var (files, classes) = ImageFolder.List(source.Root, source.Labels);
        var stamps = files.Select(f => FileStamp.Of(source.Root, f.Path)).ToList();
        var labelFile = source.Labels is null or "folders" ? null : FileStamp.Of(source.Root, source.Labels);
        string name = CacheName(source);
        foreach (string dir in Places(source.Root))
        {
            var manifest = ImageFolderManifest.TryRead(Path.Combine(dir, name + ".json"));
            if (manifest is null || !Current(manifest, source, labelFile, stamps, files)) continue;
            string pixels = Path.Combine(dir, name + ".pixels");
            long length = (long)manifest.Kept * source.Channels * source.Crop * source.Crop;
            if (!File.Exists(pixels) || new FileInfo(pixels).Length != length) continue;
            if (source.Strict && manifest.Files.FirstOrDefault(f => f.Skipped is not null) is { } bad) throw Strict(source, bad.Skipped!, manifest.Files.Count(f => f.Skipped is not null), files.Count);
            log?.Invoke($"{source.Root}: {manifest.Kept:N0} images from the cache {pixels}");
            return new ImageFolderData(Map(manifest, pixels, source), manifest, pixels, Reused: true);
        }
        return Build(source, files, classes, stamps, labelFile, name, log, progress);
    }

    /// <summary>Where a folder's cache may be: beside the data first, then the user's cache folder.</summary>
    public static IReadOnlyList<string> Places(string root)
    {
        string home = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        string id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(root))))[..16];
        return [Path.Combine(root, FolderName), Path.Combine(home, "plastic", "image-folders", id)];
    }

    private static void Check(ImageFolderSource s)
    {
        if (!Path.IsPathFullyQualified(s.Root)) throw new ArgumentException($"{s.Root}: an image folder is named by its full path here.");
        if (s.Channels is not (1 or 3)) throw new ArgumentException($"{s.Root}: images are read as 1 (grey) or 3 (RGB) channels, not {s.Channels}.");
        if (s.Crop < 1) throw new ArgumentException($"{s.Root}: the crop must be at least 1 pixel, got {s.Crop}.");
        if (s.Resize < s.Crop) throw new ArgumentException($"{s.Root}: resize {s.Resize} is smaller than the crop {s.Crop}; the shorter side is resized, then the centre {s.Crop}x{s.Crop} cut out.");
    }

    /// <summary>The cache's file name: the decoding settings and which labels (a CSV by a hash of its path).</summary>
    private static string CacheName(ImageFolderSource s)
    {
        string labels = s.Labels switch
        {
            null => "unlabelled",
            "folders" => "folders",
            var csv => "csv-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(csv)))[..12],
        };
        return $"{s.Channels}x{s.Crop}x{s.Crop}-resize{s.Resize}-{labels}";
    }

    private static bool Current(ImageFolderManifest m, ImageFolderSource s, FileStamp? labelFile, List<FileStamp> stamps, IReadOnlyList<(string Path, int Label)> files) =>
        m.Root == s.Root && m.Labels == s.Labels && m.LabelFile == labelFile && m.Channels == s.Channels && m.Resize == s.Resize && m.Crop == s.Crop
        && m.Files.Count == stamps.Count && m.Files.Select((f, i) => f.File == stamps[i] && f.Label == files[i].Label).All(same => same);

    private static InvalidDataException Strict(ImageFolderSource s, string first, int skipped, int total) =>
        new($"{first} (strict: an image that does not decode is an error; {skipped} of {total} images under {s.Root} do not; without strict they are skipped).");

    private static ImageFolderData Build(ImageFolderSource source, IReadOnlyList<(string Path, int Label)> files, IReadOnlyList<string> classes,
        List<FileStamp> stamps, FileStamp? labelFile, string name, Action<string>? log, Action<int, int>? progress)
    {
        string dir = WritablePlace(source.Root);
        string temporary = Path.Combine(dir, $"{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.partial");
        string pixels = Path.Combine(dir, name + ".pixels"), manifestPath = Path.Combine(dir, name + ".json");
        log?.Invoke($"{source.Root}: decoding {files.Count:N0} images to {source.Channels}x{source.Crop}x{source.Crop} (resize {source.Resize}) into the cache {pixels}");
        try
        {
            var manifest = Decode(source, files, classes, stamps, labelFile, temporary + ".pixels", progress);
            File.WriteAllText(temporary + ".json", manifest.ToJson());
            // The manifest marks the pixels whole: the old one goes first, the new one last.
            File.Delete(manifestPath);
            File.Move(temporary + ".pixels", pixels, overwrite: true);
            File.Move(temporary + ".json", manifestPath, overwrite: true);
            if (manifest.Files.Count(f => f.Skipped is not null) is > 0 and var skipped)
                log?.Invoke($"warning: {skipped} of {files.Count} images under {source.Root} do not decode and are skipped; the first: {manifest.Files.First(f => f.Skipped is not null).Skipped}");
            return new ImageFolderData(Map(manifest, pixels, source), manifest, pixels, Reused: false);
        }
        finally
        {
            File.Delete(temporary + ".pixels");
            File.Delete(temporary + ".json");
        }
    }

    /// <summary>The first place of <see cref="Places"/> a file can be created in.</summary>
    private static string WritablePlace(string root)
    {
        var places = Places(root);
        foreach (string dir in places)
        {
            try
            {
                Directory.CreateDirectory(dir);
                string probe = Path.Combine(dir, $".write-test.{Environment.ProcessId}.{Guid.NewGuid():N}");
                File.WriteAllBytes(probe, []);
                File.Delete(probe);
                return dir;
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException) { }
        }
        throw new IOException($"{root}: no place to write its image cache (tried {string.Join(" and ", places)}).");
    }

    /// <summary>Decodes every file in chunks, writing the kept images in order and summing their statistics.</summary>
    private static ImageFolderManifest Decode(ImageFolderSource source, IReadOnlyList<(string Path, int Label)> files, IReadOnlyList<string> classes,
        List<FileStamp> stamps, FileStamp? labelFile, string target, Action<int, int>? progress)
    {
        int channels = source.Channels, plane = source.Crop * source.Crop;
        var entries = new CachedEntry[files.Count];
        var sum = new double[channels];
        var squares = new double[channels];
        int kept = 0, done = 0;
        using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            for (int start = 0; start < files.Count; start += Chunk)
            {
                int count = Math.Min(Chunk, files.Count - start);
                var decoded = new byte[count][];
                Parallel.For(0, count, i =>
                {
                    var (path, label) = files[start + i];
                    try
                    {
                        var (image, width, height) = ImageFolder.DecodeSized(path, source.Resize, source.Crop, channels);
                        decoded[i] = image;
                        entries[start + i] = new CachedEntry(stamps[start + i], label, width, height, null);
                    }
                    catch (InvalidDataException e) { entries[start + i] = new CachedEntry(stamps[start + i], label, 0, 0, e.Message); }
                    int n = Interlocked.Increment(ref done);
                    if (n % 256 == 0 || n == files.Count) progress?.Invoke(n, files.Count);
                });
                if (source.Strict && entries.Skip(start).Take(count).FirstOrDefault(e => e.Skipped is not null) is { } bad)
                    throw Strict(source, bad.Skipped!, entries.Take(start + count).Count(e => e.Skipped is not null), files.Count);
                foreach (var image in decoded.OfType<byte[]>())
                {
                    output.Write(image);
                    kept++;
                    for (int c = 0; c < channels; c++)
                    {
                        long s = 0, q = 0;
                        foreach (byte v in image.AsSpan(c * plane, plane)) { s += v; q += v * v; }
                        sum[c] += s;
                        squares[c] += q;
                    }
                }
            }
        }
        if (kept == 0) throw new InvalidDataException($"{source.Root}: none of its {files.Count} images decodes (the first: {entries[0].Skipped}).");
        double n = (double)kept * plane;
        var mean = sum.Select(s => s / n / 255).ToArray();
        var std = squares.Select((q, c) => Math.Sqrt(Math.Max(0, q / n / (255.0 * 255) - mean[c] * mean[c]))).ToArray();
        return new ImageFolderManifest(ImageFolderManifest.CurrentFormat, source.Root, source.Labels, labelFile, channels, source.Resize, source.Crop,
            classes, entries, kept, mean, std);
    }

    private static LabelledImages Map(ImageFolderManifest m, string pixels, ImageFolderSource s)
    {
        int size = s.Channels * s.Crop * s.Crop;
        var blocks = MappedImageFile.Blocks(pixels, (long)m.Kept * size, size);
        if (m.Classes.Count == 0) return LabelledImages.Unlabelled(s.Root, blocks, s.Channels, s.Crop, s.Crop, 1);
        byte[] labels = [.. m.Files.Where(f => f.Skipped is null).Select(f => checked((byte)f.Label))];
        return new LabelledImages(s.Root, blocks, labels, s.Channels, s.Crop, s.Crop, m.Classes.Count, hasLabels: true);
    }
}
