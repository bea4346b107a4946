using System.Globalization;
using StbImageSharp;

namespace Plastic.Datasets.Readers;

/// <summary>A file of an image folder that could not be used, and why.</summary>
public sealed record SkippedImage(string Path, string Reason);

/// <summary>
/// A folder of your own PNG and JPEG images as a data set: every image below it (recursively, in ordinal
/// order of path), decoded to RGB, its shorter side resized to <c>size</c> and centre-cropped to size x size
/// (torchvision's Resize then CenterCrop). Labels: none (pre-training), "folders" (the first subfolder under
/// the root names the class, ImageNet style; classes in ordinal order) or a CSV of "file,label" lines (file
/// relative to the root; labels in ordinal order of their names). A file that does not decode is skipped
/// and named, or with strict is an error naming it.
/// </summary>
public static class ImageFolder
{
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg" };

    /// <summary>The images of the folder with their labels, and the class names (empty without labels).</summary>
    public static (IReadOnlyList<(string Path, int Label)> Files, IReadOnlyList<string> Classes) List(string root, string? labels)
    {
        if (File.Exists(root)) throw new ArgumentException($"{root}: is a file; an image data set is a folder.");
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: no such folder of images.");
        if (labels is not null && labels != "folders") return FromCsv(root, labels);
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Where(f => Extensions.Contains(Path.GetExtension(f)))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new InvalidDataException($"{root}: no .png, .jpg or .jpeg file below it.");
        if (labels is null) return ([.. files.Select(f => (f, 0))], []);
        var classOf = files.Select(f => Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar)).ToList();
        if (classOf.FirstOrDefault(parts => parts.Length < 2) is { } loose)
            throw new InvalidDataException($"{Path.Combine(root, loose[0])}: an image directly under the root; with labels from folders every image sits in its class's subfolder.");
        var classes = classOf.Select(parts => parts[0]).Distinct().Order(StringComparer.Ordinal).ToList();
        if (classes.Count > 256) throw new InvalidDataException($"{root}: {classes.Count} class folders; at most 256 classes are supported.");
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        return ([.. files.Select((f, i) => (f, index[classOf[i][0]]))], classes);
    }

    /// <summary>Decodes the listed images into size x size RGB; unreadable ones are skipped (or, strict, an error).</summary>
    public static LabelledImages Read(string root, string? labels, int size, bool strict, out IReadOnlyList<SkippedImage> skipped, Action<int, int>? progress = null)
    {
        if (size < 1) throw new ArgumentException($"{root}: the image size must be at least 1, got {size}.");
        var (files, classes) = List(root, labels);
        var pixels = new byte[files.Count][];
        var failed = new SkippedImage?[files.Count];
        int done = 0;
        Parallel.For(0, files.Count, i =>
        {
            try { pixels[i] = Decode(files[i].Path, size, size); }
            catch (InvalidDataException e) { failed[i] = new SkippedImage(files[i].Path, e.Message); }
            int n = Interlocked.Increment(ref done);
            if (n % 1000 == 0 || n == files.Count) progress?.Invoke(n, files.Count);
        });
        skipped = [.. failed.OfType<SkippedImage>()];
        if (strict && skipped.Count > 0) throw new InvalidDataException($"{skipped[0].Reason} ({skipped.Count} of {files.Count} images do not decode; without --strict they are skipped).");
        var kept = Enumerable.Range(0, files.Count).Where(i => failed[i] is null).ToList();
        if (kept.Count == 0) throw new InvalidDataException($"{root}: none of its {files.Count} images decodes (the first: {skipped[0].Reason}).");
        var block = new byte[(long)kept.Count * 3 * size * size];
        for (int k = 0; k < kept.Count; k++) pixels[kept[k]].CopyTo(block.AsSpan(k * 3 * size * size));
        byte[] labelBytes = [.. kept.Select(i => checked((byte)files[i].Label))];
        return classes.Count == 0
            ? LabelledImages.Unlabelled(root, [block], 3, size, size, 1)
            : new LabelledImages(root, [block], labelBytes, 3, size, size, classes.Count, hasLabels: true);
    }

    /// <summary>An image's width x height from its header (null when the header does not read), without decoding it.</summary>
    public static (int Width, int Height)? SizeOf(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (Truncated(bytes) is not null) return null;
        using var stream = new MemoryStream(bytes);
        return ImageInfo.FromStream(stream) is { } info ? (info.Width, info.Height) : null;
    }

    /// <summary>
    /// Why a file cannot be a whole PNG or JPEG (the decoder can loop forever on a JPEG cut short, the
    /// commonest damage), or null: a PNG starts with its signature and holds an IEND chunk, a JPEG starts
    /// with SOI (FF D8) and has an EOI (FF D9) in its last bytes.
    /// </summary>
    internal static string? Truncated(byte[] bytes)
    {
        ReadOnlySpan<byte> png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (bytes.AsSpan().StartsWith(png))
            return bytes.AsSpan().LastIndexOf("IEND"u8) >= 0 ? null : "a PNG without its IEND chunk (cut short)";
        if (bytes.Length >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8)
            return bytes.AsSpan(Math.Max(0, bytes.Length - 1024)).IndexOf([(byte)0xFF, (byte)0xD9]) >= 0 ? null : "a JPEG without its end marker (cut short)";
        return "neither a PNG nor a JPEG (its first bytes are not their signatures)";
    }

    /// <summary>
    /// One image decoded to RGB (<paramref name="channels"/> 3) or grey (1: the decoder's luminance of a colour
    /// image, a grey image as it is), its shorter side resized to <paramref name="resize"/> and centre-cropped to
    /// crop x crop, planar [channels, crop, crop]; a file that is not a whole PNG or JPEG is an InvalidDataException naming it.
    /// </summary>
    public static byte[] Decode(string path, int resize, int crop, int channels = 3) => DecodeSized(path, resize, crop, channels).Pixels;

    /// <summary><see cref="Decode"/>, with the image's width and height as stored.</summary>
    public static (byte[] Pixels, int Width, int Height) DecodeSized(string path, int resize, int crop, int channels)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"Images decode to 1 (grey) or 3 (RGB) channels, not {channels}.");
        var image = DecodeFile(path, channels == 3 ? ColorComponents.RedGreenBlue : ColorComponents.Grey);
        int h = image.Height, w = image.Width;
        var planar = new byte[channels * h * w];
        for (int p = 0; p < h * w; p++)
            for (int c = 0; c < channels; c++) planar[c * h * w + p] = image.Data[p * channels + c];
        var output = new byte[channels * crop * crop];
        Augment.ProbeTestTransform.ResizeCenterCrop(planar, channels, h, w, resize, crop, output);
        return (output, w, h);
    }

    private static ImageResult DecodeFile(string path, ColorComponents components)
    {
        var bytes = File.ReadAllBytes(path);
        if (Truncated(bytes) is { } why) throw new InvalidDataException($"{path}: not a decodable image ({why}).");
        try { return ImageResult.FromMemory(bytes, components); }
        catch (Exception e) when (e is not OutOfMemoryException) { throw new InvalidDataException($"{path}: not a decodable image ({e.Message})."); }
    }

    private static (IReadOnlyList<(string Path, int Label)>, IReadOnlyList<string>) FromCsv(string root, string csv)
    {
        if (!File.Exists(csv)) throw new FileNotFoundException($"{csv}: no such label file (labels are \"folders\" or a CSV of file,label lines).", csv);
        var rows = new List<(string Path, string Label)>();
        int line = 0;
        foreach (var text in File.ReadLines(csv))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text) || (line == 1 && text.Trim().Equals("file,label", StringComparison.OrdinalIgnoreCase))) continue;
            var parts = text.Split(',');
            if (parts.Length != 2 || parts[0].Trim().Length == 0 || parts[1].Trim().Length == 0)
                throw new InvalidDataException($"{csv}:{line}: expected file,label; got '{text}'.");
            string path = Path.GetFullPath(Path.Combine(root, parts[0].Trim()));
            if (!File.Exists(path)) throw new InvalidDataException($"{csv}:{line}: {parts[0].Trim()} is not a file under {root}.");
            rows.Add((path, parts[1].Trim()));
        }
        if (rows.Count == 0) throw new InvalidDataException($"{csv}: no file,label lines.");
        var classes = rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        if (classes.Count > 256) throw new InvalidDataException($"{csv}: {classes.Count.ToString(CultureInfo.InvariantCulture)} classes; at most 256 are supported.");
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
        return ([.. rows.Select(r => (r.Path, index[r.Label]))], classes);
    }
}
