using System.Globalization;
using Plastic.Datasets.Readers;

namespace Plastic.Cli;

/// <summary>`plastic data verify &lt;folder&gt;`: what a folder of images holds, as a data set would read it.</summary>
internal static class ImageFolderReport
{
    public static void Print(string folder, string? labels, int size, bool strict)
    {
        var (files, classes) = ImageFolder.List(folder, labels);
        Console.WriteLine($"{folder}: {files.Count:N0} image files{(classes.Count > 0 ? $", {classes.Count} classes ({(labels == "folders" ? "subfolders" : labels)})" : ", no labels")}");
        var sizes = files.Select(f => ImageFolder.SizeOf(f.Path)).OfType<(int Width, int Height)>()
            .GroupBy(s => s).OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Width).ToList();
        Console.WriteLine($"  sizes met: {string.Join(", ", sizes.Take(8).Select(g => $"{g.Key.Width}x{g.Key.Height} ({g.Count()})"))}{(sizes.Count > 8 ? $" and {sizes.Count - 8} more" : "")}");
        var images = ImageFolder.Read(folder, labels, size, strict, out var skipped,
            Console.IsErrorRedirected ? null : (done, total) => Console.Error.Write($"\r  decoding {done:N0} / {total:N0}"));
        if (!Console.IsErrorRedirected) Console.Error.WriteLine();
        if (classes.Count > 0)
            Console.WriteLine($"  per class: {string.Join(", ", images.ClassCounts().Select((n, c) => $"{classes[c]} {n}"))}");
        Console.WriteLine(skipped.Count == 0 ? "  unreadable: none" : $"  unreadable: {skipped.Count} (skipped; --strict makes them an error)");
        foreach (var s in skipped.Take(10)) Console.WriteLine($"    {s.Reason}");
        if (skipped.Count > 10) Console.WriteLine($"    and {skipped.Count - 10} more");
        var (mean, std) = images.ChannelStatistics();
        string F(double[] v) => string.Join(" ", v.Select(x => x.ToString("F4", CultureInfo.InvariantCulture)));
        Console.WriteLine($"  per-channel mean {F(mean)}, std {F(std)} (pixels / 255, after resizing to {size} and centre-cropping {size}x{size})");
        Console.WriteLine($"{folder}: {images.Count:N0} images read");
    }

    /// <summary>
    /// `plastic data list`'s second part: each folder under the data root that is no catalogue set's and holds
    /// PNG / JPEG images, with its image count and class subfolders, and each cache decoded from it (its
    /// settings, images kept and skipped, mean and std).
    /// </summary>
    public static void List(string root)
    {
        if (!Directory.Exists(root)) return;
        var catalogue = Plastic.Datasets.Catalog.DatasetCatalog.All.Select(d => d.Folder.Split('/', '\\')[0]).ToHashSet();
        var folders = Directory.EnumerateDirectories(root).Where(d => !catalogue.Contains(Path.GetFileName(d)) && !Path.GetFileName(d).StartsWith('.')).Order(StringComparer.Ordinal).ToList();
        var shown = new List<string>();
        foreach (string folder in folders)
        {
            int images = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count(f => ImageFolder.Extensions.Contains(Path.GetExtension(f)));
            if (images == 0) continue;
            var classes = Directory.EnumerateDirectories(folder).Count(d => !Path.GetFileName(d).StartsWith('.'));
            shown.Add($"{Path.GetFileName(folder),-14} {images,7:N0} {folder,-40} folder of images{(classes > 0 ? $", {classes} subfolders (labels \"folders\")" : "")}");
            foreach (string place in ImageFolderCache.Places(folder))
            {
                if (!Directory.Exists(place)) continue;
                foreach (string manifest in Directory.EnumerateFiles(place, "*.json").Order(StringComparer.Ordinal))
                {
                    if (ImageFolderManifest.TryRead(manifest) is not { } m) continue;
                    string F(double[] v) => string.Join(" ", v.Select(x => x.ToString("F4", CultureInfo.InvariantCulture)));
                    int skipped = m.Files.Count(f => f.Skipped is not null);
                    shown.Add($"{"",14}   cache {Path.GetFileNameWithoutExtension(manifest)}: {m.Kept:N0} images{(m.Classes.Count > 0 ? $", {m.Classes.Count} classes" : "")}{(skipped > 0 ? $", {skipped} skipped" : "")}, mean {F(m.Mean)}, std {F(m.Std)}");
                }
            }
        }
        if (shown.Count == 0) return;
        Console.WriteLine("folders of images (a run's \"dataset\": { \"images\": \"<name>\" }; plastic data verify <folder> reports on one):");
        foreach (string line in shown) Console.WriteLine(line);
    }
}
