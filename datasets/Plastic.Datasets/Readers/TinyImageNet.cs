using StbImageSharp;

namespace Plastic.Datasets.Readers;

/// <summary>
/// Tiny ImageNet as distributed: tiny-imagenet-200/wnids.txt (the 200 class ids, their order gives the
/// labels), train/&lt;wnid&gt;/images/*.JPEG and val/images/*.JPEG labelled by val/val_annotations.txt
/// (file, wnid, box, tab-separated). Images are decoded to RGB (the few grey ones too) and must be 64x64.
/// </summary>
public static class TinyImageNet
{
    public const string Folder = "tiny-imagenet-200";
    private const int Side = 64;

    public static LabelledImages Read(string root, string split)
    {
        string dir = Path.Combine(root, Folder);
        string wnidsPath = Path.Combine(dir, "wnids.txt");
        if (!File.Exists(wnidsPath)) throw new FileNotFoundException($"tiny-imagenet: no wnids.txt under {dir}.", wnidsPath);
        var wnids = File.ReadAllLines(wnidsPath).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        var label = wnids.Select((w, i) => (w, i)).ToDictionary(x => x.w, x => x.i);
        var files = new List<(string Path, int Label)>();
        if (split == "train")
        {
            foreach (var wnid in wnids)
            {
                string images = Path.Combine(dir, "train", wnid, "images");
                if (!Directory.Exists(images)) throw new FileNotFoundException($"tiny-imagenet: no folder {images} for class {wnid} of wnids.txt.", images);
                files.AddRange(Directory.GetFiles(images, "*.JPEG").Order(StringComparer.Ordinal).Select(f => (f, label[wnid])));
            }
        }
        else if (split == "val")
        {
            string annotations = Path.Combine(dir, "val", "val_annotations.txt");
            if (!File.Exists(annotations)) throw new FileNotFoundException($"tiny-imagenet: no val/val_annotations.txt under {dir}.", annotations);
            int line = 0;
            foreach (var text in File.ReadLines(annotations))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                var fields = text.Split('\t');
                if (fields.Length < 2 || !label.TryGetValue(fields[1], out int l))
                    throw new InvalidDataException($"{annotations}:{line}: expected 'file<TAB>wnid<TAB>...' with a wnid of wnids.txt, got '{text}'.");
                files.Add((Path.Combine(dir, "val", "images", fields[0]), l));
            }
        }
        else
        {
            throw new ArgumentException($"tiny-imagenet: split '{split}'; the labelled splits are train and val.");
        }

        var pixels = new byte[files.Count * 3 * Side * Side];
        var labels = new byte[files.Count];
        try
        {
            Parallel.For(0, files.Count, i => Decode(files[i], i, pixels, labels));
        }
        catch (AggregateException e)
        {
            // The first bad file, as itself: the message names it.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return new LabelledImages(Path.Combine(dir, split), pixels, labels, 3, Side, Side, wnids.Count);
    }

    private static void Decode((string Path, int Label) file, int i, byte[] pixels, byte[] labels)
    {
        var (path, label) = file;
        if (!File.Exists(path)) throw new FileNotFoundException($"tiny-imagenet: {path} is listed but missing.", path);
        ImageResult image;
        var bytes = File.ReadAllBytes(path);
        // The decoder can loop forever on a JPEG cut short: such a file is refused before it is decoded.
        if (ImageFolder.Truncated(bytes) is { } why) throw new InvalidDataException($"{path}: not a decodable image ({why}).");
        try { image = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlue); }
        catch (Exception e) when (e is not OutOfMemoryException) { throw new InvalidDataException($"{path}: not a decodable image ({e.Message})."); }
        if (image.Width != Side || image.Height != Side)
            throw new InvalidDataException($"{path}: {image.Width}x{image.Height}; Tiny ImageNet images are {Side}x{Side}.");
        labels[i] = (byte)label;
        int baseIndex = i * 3 * Side * Side;
        for (int p = 0; p < Side * Side; p++)
            for (int c = 0; c < 3; c++) pixels[baseIndex + c * Side * Side + p] = image.Data[p * 3 + c];
    }
}
