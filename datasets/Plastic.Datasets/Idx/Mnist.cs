namespace Plastic.Datasets.Idx;

/// <summary>Where MNIST-format data sets live under a data root, and how to load their images.</summary>
public static class Mnist
{
    /// <summary>The folders under a data root: "mnist" and "fashion-mnist".</summary>
    public static readonly IReadOnlyList<string> Names = ["mnist", "fashion-mnist"];

    /// <summary>The training (or test) images of <paramref name="name"/> under <paramref name="root"/>, raw or .gz.</summary>
    public static string ImagesPath(string root, string name = "mnist", bool train = true)
    {
        string stem = Path.Combine(root, name, train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte");
        foreach (var candidate in new[] { stem, stem + ".gz" })
            if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException($"{name}: no {Path.GetFileName(stem)}[.gz] under {Path.Combine(root, name)}.", stem);
    }

    /// <summary>The first <paramref name="count"/> images, [count, 28, 28] bytes; checks that they are 28 x 28.</summary>
    public static IdxArray LoadImages(string root, int count, string name = "mnist", bool train = true)
    {
        string path = ImagesPath(root, name, train);
        var images = IdxFile.Read(path, count);
        if (images.Dims.Length != 3 || images.Dims[1] != 28 || images.Dims[2] != 28)
            throw new InvalidDataException($"{path}: images of shape [{string.Join(", ", images.Dims.Skip(1))}]; expected 28 x 28.");
        if (images.Count < count) throw new InvalidDataException($"{path}: holds {images.Count} images; {count} were asked for.");
        return images;
    }
}
