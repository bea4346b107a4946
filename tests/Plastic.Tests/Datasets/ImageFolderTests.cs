using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Plastic.Datasets.Readers;

namespace Plastic.Tests.Datasets;

/// <summary>
/// A folder of PNG images these tests write (and a corrupt JPEG among them): listed recursively, labelled by
/// subfolder or CSV, resized and centre-cropped, unreadable files named and skipped (or an error with
/// strict), bad folders and label files named; and `plastic data verify` on such a folder.
/// </summary>
[Collection("Console")]
public sealed class ImageFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-images-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A width x height RGB PNG, every pixel (r, g, b).</summary>
    private string Png(string relative, int width, int height, byte r, byte g, byte b)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0); // filter: none
            for (int x = 0; x < width; x++) raw.Write([r, g, b]);
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) raw.WriteTo(z);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; header[9] = 2; // 8 bits, truecolour
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, png.ToArray());
        return path;
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        png.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>Two classes, mixed sizes, one file that is not an image, one corrupt JPEG.</summary>
    private string LabelledFolder()
    {
        Png("cats/a.png", 40, 30, 200, 100, 50);
        Png("cats/deep/b.png", 32, 32, 200, 100, 50);
        Png("dogs/c.png", 64, 32, 10, 20, 30);
        File.WriteAllText(Path.Combine(_root, "dogs", "notes.txt"), "not an image");
        File.WriteAllBytes(Path.Combine(_root, "dogs", "broken.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]);
        return _root;
    }

    [Fact]
    public void Images_are_labelled_by_subfolder_resized_cropped_and_a_corrupt_one_is_named_and_skipped()
    {
        var images = ImageFolder.Read(LabelledFolder(), "folders", 16, strict: false, out var skipped);
        Assert.Equal((3, 2, 3, 16, 16), (images.Count, images.Classes, images.Channels, images.Height, images.Width));
        Assert.Equal([0, 0, 1], images.Labels);   // cats/a.png, cats/deep/b.png, dogs/c.png in ordinal order
        var skip = Assert.Single(skipped);
        Assert.EndsWith("broken.jpg", skip.Path);
        Assert.Contains("broken.jpg: not a decodable image", skip.Reason);
        // A constant image stays constant through resize and crop: plane by plane.
        var dog = images.Image(2).ToArray();
        Assert.All(dog[..256], v => Assert.Equal(10, v));
        Assert.All(dog[256..512], v => Assert.Equal(20, v));
        Assert.All(dog[512..], v => Assert.Equal(30, v));
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.Read(_root, "folders", 16, strict: true, out _));
        Assert.Contains("broken.jpg: not a decodable image", e.Message);
        Assert.Contains("1 of 4 images do not decode", e.Message);
        var unlabelled = ImageFolder.Read(_root, null, 8, strict: false, out _);
        Assert.False(unlabelled.HasLabels);
        Assert.Equal(3, unlabelled.Count);
    }

    [Fact]
    public void A_csv_names_labels_and_bad_folders_and_label_files_are_named()
    {
        Png("x/1.png", 8, 8, 1, 2, 3);
        Png("x/2.png", 8, 8, 4, 5, 6);
        string csv = Path.Combine(_root, "labels.csv");
        File.WriteAllText(csv, "file,label\nx/1.png,zebra\nx/2.png,ant\n");
        var images = ImageFolder.Read(_root, csv, 8, strict: true, out _);
        Assert.Equal([1, 0], images.Labels);    // classes in ordinal order: ant, zebra
        File.WriteAllText(csv, "x/1.png,zebra\nx/3.png,ant\n");
        Assert.Contains($"{csv}:2: x/3.png is not a file under {_root}", Assert.Throws<InvalidDataException>(() => ImageFolder.List(_root, csv)).Message);
        File.WriteAllText(csv, "x/1.png\n");
        Assert.Contains($"{csv}:1: expected file,label", Assert.Throws<InvalidDataException>(() => ImageFolder.List(_root, csv)).Message);
        string empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        Assert.Contains($"{empty}: no .png, .jpg or .jpeg file below it", Assert.Throws<InvalidDataException>(() => ImageFolder.List(empty, null)).Message);
        File.WriteAllText(Path.Combine(empty, "a.png"), "not a png");
        Assert.Contains("none of its 1 images decodes", Assert.Throws<InvalidDataException>(() => ImageFolder.Read(empty, null, 8, strict: false, out _)).Message);
        Assert.Contains("an image directly under the root", Assert.Throws<InvalidDataException>(() => ImageFolder.List(empty, "folders")).Message);
    }

    [Fact]
    public void Data_verify_on_a_folder_reports_counts_classes_sizes_unreadable_files_and_statistics()
    {
        var (code, output, errors) = Plastic.Tests.Cli.CliTests.Run("data", "verify", LabelledFolder(), "--labels", "folders", "--size", "16");
        Assert.True(code == 0, errors);
        Assert.Contains($"{_root}: 4 image files, 2 classes (subfolders)", output);
        Assert.Contains("sizes met: 32x32 (1), 40x30 (1), 64x32 (1)", output);
        Assert.Contains("per class: cats 2, dogs 1", output);
        Assert.Contains("unreadable: 1 (skipped; --strict makes them an error)", output);
        Assert.Contains("broken.jpg: not a decodable image", output);
        // Two images of (200, 100, 50) and one of (10, 20, 30): the mean of the red plane is (2 * 200 + 10) / 3 / 255.
        Assert.Contains($"per-channel mean {410 / 3.0 / 255:F4} ", output);
        var strict = Plastic.Tests.Cli.CliTests.Run("data", "verify", _root, "--labels", "folders", "--strict");
        Assert.Equal(2, strict.code);
        Assert.Matches(@"^plastic: .*broken\.jpg: not a decodable image.*\n$", strict.errors);
    }
}
