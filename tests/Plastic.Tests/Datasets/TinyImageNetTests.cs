using System.IO.Compression;
using System.Text;
using Plastic.Datasets.Readers;

namespace Plastic.Tests.Datasets;

/// <summary>The Tiny ImageNet folder reader on a two-class miniature written here (PNG bytes under .JPEG names: the decoder reads content, not names).</summary>
public sealed class TinyImageNetTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-tiny-").FullName;
    private string Dir => Path.Combine(_root, TinyImageNet.Folder);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Image(string relative, byte red, int side = 64)
    {
        string path = Path.Combine(Dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Png(side, side, (x, y) => (red, (byte)x, (byte)y)));
    }

    private void Layout()
    {
        Directory.CreateDirectory(Dir);
        File.WriteAllText(Path.Combine(Dir, "wnids.txt"), "n01\nn02\n");
        Image("train/n01/images/n01_0.JPEG", 10);
        Image("train/n01/images/n01_1.JPEG", 11);
        Image("train/n02/images/n02_0.JPEG", 20);
        Image("val/images/val_0.JPEG", 30);
        File.WriteAllText(Path.Combine(Dir, "val", "val_annotations.txt"), "val_0.JPEG\tn02\t0\t0\t63\t63\n");
    }

    [Fact]
    public void Train_and_val_are_read_with_labels_from_the_class_list_and_annotations()
    {
        Layout();
        var train = TinyImageNet.Read(_root, "train");
        Assert.Equal([0, 0, 1], train.Labels);
        Assert.Equal(11, train.Image(1)[0]);              // red plane of the second image
        Assert.Equal(5, train.Image(0)[4096 + 3 * 64 + 5]); // green = x at row 3, column 5
        var val = TinyImageNet.Read(_root, "val");
        Assert.Equal([1], val.Labels);
        Assert.Equal(30, val.Image(0)[0]);
    }

    [Fact]
    public void A_wrong_size_an_unknown_class_and_a_missing_class_folder_are_named()
    {
        Layout();
        Image("train/n02/images/n02_1.JPEG", 1, side: 32);
        Assert.Contains("n02_1.JPEG: 32x32", Assert.Throws<InvalidDataException>(() => TinyImageNet.Read(_root, "train")).Message);
        File.WriteAllText(Path.Combine(Dir, "val", "val_annotations.txt"), "val_0.JPEG\tn99\t0\t0\t1\t1\n");
        Assert.Contains("val_annotations.txt:1", Assert.Throws<InvalidDataException>(() => TinyImageNet.Read(_root, "val")).Message);
        File.WriteAllText(Path.Combine(Dir, "wnids.txt"), "n01\nn02\nn03\n");
        Assert.Contains("class n03", Assert.Throws<FileNotFoundException>(() => TinyImageNet.Read(_root, "train")).Message);
    }

    /// <summary>A minimal RGB PNG: one IDAT of unfiltered scanlines.</summary>
    private static byte[] Png(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            raw.WriteByte(0);
            for (int x = 0; x < width; x++) { var (r, g, b) = pixel(x, y); raw.WriteByte(r); raw.WriteByte(g); raw.WriteByte(b); }
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) raw.WriteTo(z);
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", [.. BigEndian(width), .. BigEndian(height), 8, 2, 0, 0, 0]);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        s.Write(BigEndian(data.Length));
        var body = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(body);
        s.Write(BigEndian((int)Crc32(body)));
    }

    private static byte[] BigEndian(int v) => [(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v];

    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
