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
}
