using System.Buffers.Binary;
using System.IO.Compression;

namespace Plastic.Datasets.Readers;

/// <summary>
/// A planar [channels, height, width] byte image as a PNG (8-bit greyscale or RGB, no filter, zlib): what
/// `plastic data export` writes so a catalogue set can be read back as an image folder, losslessly.
/// </summary>
public static class PngWriter
{
    public static byte[] Encode(ReadOnlySpan<byte> planar, int channels, int height, int width)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"A PNG here is greyscale or RGB, not {channels} channels.");
        if (planar.Length != channels * height * width) throw new ArgumentException($"A {channels}x{height}x{width} image has {channels * height * width} bytes, not {planar.Length}.");
        var raw = new byte[height * (1 + width * channels)];
        int plane = height * width;
        for (int y = 0, o = 0; y < height; y++)
        {
            raw[o++] = 0; // filter type 0: the row as it is
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++) raw[o++] = planar[c * plane + y * width + x];
        }
        var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) z.Write(raw);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bits per sample
        header[9] = channels == 3 ? (byte)2 : (byte)0; // colour type: truecolour or greyscale
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR"u8, header);
        Chunk(png, "IDAT"u8, compressed.ToArray());
        Chunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        uint crc = Crc32.Update(Crc32.Update(0xFFFFFFFF, type), data) ^ 0xFFFFFFFF;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        png.Write(word);
    }

    /// <summary>The CRC-32 of PNG chunks (ISO 3309, reflected polynomial 0xEDB88320).</summary>
    private static class Crc32
    {
        private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
        {
            uint c = (uint)n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();

        public static uint Update(uint crc, ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc;
        }
    }
}
