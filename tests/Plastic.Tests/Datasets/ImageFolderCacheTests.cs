using System.Buffers.Binary;
using Plastic.Datasets.Readers;
using StbImageSharp;

namespace Plastic.Tests.Datasets;

/// <summary>
/// Image folders through their cache: what the tests write as PNG (random pixels, so nothing can match by
/// luck) reads back byte for byte, labelled by subfolder, from a memory-mapped cache that a second open
/// reuses; a changed, added or removed file makes it read again; a failure leaves no cache file behind;
/// bad folders are named. PNGs come from <see cref="PngWriter"/>, checked here against StbImageSharp's
/// decoder and a CRC-32 written in this file.
/// </summary>
public sealed class ImageFolderCacheTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-cache-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Random planar images written as class-subfolder PNGs; returns the pixels in the order a listing sorts them.</summary>
    private List<(byte[] Pixels, int Label)> Write(string folder, int count, int classes, int channels, int side, int seed)
    {
        var random = new Random(seed);
        var written = new List<(string Path, byte[] Pixels, int Label)>();
        for (int i = 0; i < count; i++)
        {
            var pixels = new byte[channels * side * side];
            random.NextBytes(pixels);
            int label = i % classes;
            string path = Path.Combine(_root, folder, classes > 1 ? $"class{label}" : "", $"img{i:D3}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, PngWriter.Encode(pixels, channels, side, side));
            written.Add((path, pixels, label));
        }
        return [.. written.OrderBy(w => w.Path, StringComparer.Ordinal).Select(w => (w.Pixels, w.Label))];
    }

    private ImageFolderSource Source(string folder, string? labels = "folders", int channels = 3, int crop = 12, bool strict = false) =>
        new(Path.Combine(_root, folder), labels, channels, crop, crop, strict);

    private static string[] CacheFiles(string folder) =>
        Directory.Exists(Path.Combine(folder, ImageFolderCache.FolderName)) ? Directory.GetFiles(Path.Combine(folder, ImageFolderCache.FolderName)) : [];

    [Fact]
    public void Png_writer_output_decodes_to_its_pixels_and_every_chunk_crc_checks()
    {
        var random = new Random(5);
        foreach (int channels in new[] { 1, 3 })
        {
            var planar = new byte[channels * 7 * 9];
            random.NextBytes(planar);
            var png = PngWriter.Encode(planar, channels, 7, 9);
            var image = ImageResult.FromMemory(png, channels == 3 ? ColorComponents.RedGreenBlue : ColorComponents.Grey);
            Assert.Equal((9, 7), (image.Width, image.Height));
            for (int p = 0; p < 63; p++)
                for (int c = 0; c < channels; c++) Assert.Equal(planar[c * 63 + p], image.Data[p * channels + c]);
            for (int at = 8; at < png.Length;)
            {
                int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
                uint stored = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
                Assert.Equal(Crc32(png.AsSpan(at + 4, 4 + length)), stored);
                at += 12 + length;
            }
        }
    }

    /// <summary>CRC-32 bit by bit (PNG specification, annex D), no table.</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320 & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    [Fact]
    public void A_folder_reads_back_byte_for_byte_from_a_mapped_cache_that_a_second_open_reuses()
    {
        var written = Write("set", 30, 3, 3, 12, seed: 1);
        var first = ImageFolderCache.Open(Source("set"));
        Assert.False(first.Reused);
        Assert.Equal((30, 3, 3, 12), (first.Images.Count, first.Images.Classes, first.Images.Channels, first.Images.Height));
        for (int i = 0; i < written.Count; i++)
        {
            Assert.Equal(written[i].Pixels, first.Images.Image(i).ToArray());
            Assert.Equal(written[i].Label, first.Images.Labels[i]);
        }
        Assert.Equal(["class0", "class1", "class2"], first.Manifest.Classes);
        // The recorded statistics are those of the pixels, computed here the plain way.
        for (int c = 0; c < 3; c++)
        {
            var values = written.SelectMany(w => w.Pixels.Skip(c * 144).Take(144)).Select(v => v / 255.0).ToList();
            double mean = values.Average();
            Assert.Equal(mean, first.Manifest.Mean[c], 12);
            Assert.Equal(Math.Sqrt(values.Average(v => (v - mean) * (v - mean))), first.Manifest.Std[c], 9);
        }
        var second = ImageFolderCache.Open(Source("set"));
        Assert.True(second.Reused);
        Assert.Equal(first.CacheFile, second.CacheFile);
        for (int i = 0; i < written.Count; i++) Assert.Equal(written[i].Pixels, second.Images.Image(i).ToArray());
        Assert.Equal(2, CacheFiles(Path.Combine(_root, "set")).Length); // pixels and manifest, nothing partial
    }

    [Fact]
    public void Grey_images_read_as_one_channel()
    {
        var written = Write("grey", 6, 1, 1, 10, seed: 2);
        var data = ImageFolderCache.Open(Source("grey", labels: null, channels: 1, crop: 10));
        Assert.False(data.Images.HasLabels);
        for (int i = 0; i < 6; i++) Assert.Equal(written[i].Pixels, data.Images.Image(i).ToArray());
    }

    [Fact]
    public void A_changed_added_or_removed_file_makes_the_cache_read_again()
    {
        Write("set", 8, 2, 3, 12, seed: 3);
        ImageFolderCache.Open(Source("set"));
        string changed = Path.Combine(_root, "set", "class1", "img001.png");
        var replacement = new byte[3 * 12 * 12];
        Array.Fill(replacement, (byte)77);
        File.WriteAllBytes(changed, PngWriter.Encode(replacement, 3, 12, 12));
        File.SetLastWriteTimeUtc(changed, DateTime.UtcNow.AddMinutes(1)); // a rewrite within the clock's tick still counts
        var reread = ImageFolderCache.Open(Source("set"));
        Assert.False(reread.Reused);
        Assert.Equal(replacement, reread.Images.Image(4).ToArray()); // class0/img000,2,4,6 then class1/img001
        File.WriteAllBytes(Path.Combine(_root, "set", "class0", "img100.png"), PngWriter.Encode(replacement, 3, 12, 12));
        Assert.Equal((9, false), (ImageFolderCache.Open(Source("set")) is var added ? (added.Images.Count, added.Reused) : default));
        File.Delete(changed);
        Assert.Equal((8, false), (ImageFolderCache.Open(Source("set")) is var removed ? (removed.Images.Count, removed.Reused) : default));
        Assert.True(ImageFolderCache.Open(Source("set")).Reused);
        // Another crop is another cache beside the first.
        Assert.Equal(8, ImageFolderCache.Open(Source("set", crop: 8)).Images.Count);
        Assert.Equal(4, CacheFiles(Path.Combine(_root, "set")).Length);
    }

    [Fact]
    public void A_corrupt_jpeg_is_skipped_and_named_or_with_strict_an_error_that_leaves_no_cache()
    {
        Write("set", 6, 2, 3, 12, seed: 4);
        string broken = Path.Combine(_root, "set", "class1", "broken.jpg");
        File.WriteAllBytes(broken, [0xFF, 0xD8, 0xFF, 0xE0, 9, 9, 9, 9]);
        var e = Assert.Throws<InvalidDataException>(() => ImageFolderCache.Open(Source("set", strict: true)));
        Assert.Contains($"{broken}: not a decodable image", e.Message);
        Assert.Contains("1 of 7 images", e.Message);
        Assert.Empty(CacheFiles(Path.Combine(_root, "set")));
        var lines = new List<string>();
        var lenient = ImageFolderCache.Open(Source("set"), lines.Add);
        Assert.Equal(6, lenient.Images.Count);
        Assert.Equal(broken, Assert.Single(lenient.Skipped).Path);
        Assert.Contains(lines, l => l.StartsWith("warning: 1 of 7 images", StringComparison.Ordinal) && l.Contains(broken));
        // The cache remembers the skipped file: strict still refuses, naming it.
        Assert.Contains(broken, Assert.Throws<InvalidDataException>(() => ImageFolderCache.Open(Source("set", strict: true))).Message);
    }

    [Fact]
    public void Mixed_sizes_are_resized_and_cropped_and_the_sizes_met_are_recorded()
    {
        foreach (var (name, w, h) in new[] { ("a", 12, 12), ("b", 30, 20), ("c", 9, 40) })
        {
            var pixels = new byte[3 * w * h];
            new Random(w).NextBytes(pixels);
            Directory.CreateDirectory(Path.Combine(_root, "mixed"));
            File.WriteAllBytes(Path.Combine(_root, "mixed", name + ".png"), PngWriter.Encode(pixels, 3, h, w));
        }
        var data = ImageFolderCache.Open(Source("mixed", labels: null));
        Assert.Equal(3, data.Images.Count);
        Assert.Equal(12 * 12 * 3, data.Images.ImageSize);
        Assert.Equal([new ImageSizeCount(9, 40, 1), new ImageSizeCount(12, 12, 1), new ImageSizeCount(30, 20, 1)], data.Manifest.Sizes().OrderBy(s => s.Width));
    }

    [Fact]
    public void Bad_folders_and_label_files_are_named_and_leave_no_cache()
    {
        string empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        Assert.Contains($"{empty}: no .png, .jpg or .jpeg file below it", Assert.Throws<InvalidDataException>(() => ImageFolderCache.Open(Source("empty"))).Message);
        string text = Directory.CreateDirectory(Path.Combine(_root, "text")).FullName;
        File.WriteAllText(Path.Combine(text, "a.png"), "not a png");
        File.WriteAllText(Path.Combine(text, "b.jpg"), "nor a jpeg");
        var e = Assert.Throws<InvalidDataException>(() => ImageFolderCache.Open(Source("text", labels: null)));
        Assert.Contains($"{text}: none of its 2 images decodes", e.Message);
        Assert.Contains("a.png: not a decodable image", e.Message);
        Assert.Empty(CacheFiles(text));
        Write("set", 4, 1, 3, 12, seed: 6);
        string csv = Path.Combine(_root, "labels.csv");
        File.WriteAllText(csv, "file,label\nimg000.png,a\nimg009.png,b\n");
        e = Assert.Throws<InvalidDataException>(() => ImageFolderCache.Open(Source("set", labels: csv)));
        Assert.Contains($"{csv}:3: img009.png is not a file under {Path.Combine(_root, "set")}", e.Message);
        Assert.Empty(CacheFiles(Path.Combine(_root, "set")));
        var ex = Assert.Throws<ArgumentException>(() => ImageFolderCache.Open(new ImageFolderSource(Path.Combine(_root, "set"), null, 3, Resize: 8, Crop: 12, Strict: false)));
        Assert.Contains("resize 8 is smaller than the crop 12", ex.Message);
    }

    [Fact]
    public void A_cache_whose_pixels_were_cut_short_is_rebuilt()
    {
        var written = Write("set", 5, 1, 3, 12, seed: 7);
        var first = ImageFolderCache.Open(Source("set", labels: null));
        using (var f = new FileStream(first.CacheFile, FileMode.Open)) f.SetLength(100);
        var again = ImageFolderCache.Open(Source("set", labels: null));
        Assert.False(again.Reused);
        Assert.Equal(written[4].Pixels, again.Images.Image(4).ToArray());
    }
}
