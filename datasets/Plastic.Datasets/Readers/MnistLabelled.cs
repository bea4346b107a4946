using Plastic.Datasets.Idx;

namespace Plastic.Datasets.Readers;

/// <summary>MNIST and Fashion-MNIST as labelled images: the IDX image and label files of a split, checked against each other.</summary>
public static class MnistLabelled
{
    public static LabelledImages Read(string root, string name, bool train)
    {
        string images = Mnist.ImagesPath(root, name, train);
        string labelsStem = Path.Combine(root, name, train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte");
        string labels = File.Exists(labelsStem) ? labelsStem : labelsStem + ".gz";
        var x = IdxFile.Read(images);
        var y = IdxFile.Read(labels);
        if (x.Dims.Length != 3 || x.Dims[1] != 28 || x.Dims[2] != 28)
            throw new InvalidDataException($"{images}: images of shape [{string.Join(", ", x.Dims)}]; expected [count, 28, 28].");
        if (y.Dims.Length != 1) throw new InvalidDataException($"{labels}: rank {y.Dims.Length}; a label file has rank 1.");
        if (y.Count != x.Count) throw new InvalidDataException($"{labels}: {y.Count} labels for the {x.Count} images of {images}.");
        // Checked here, not with the images: the label file is the one at fault.
        int bad = Array.FindIndex(y.Data, label => label > 9);
        if (bad >= 0) throw new InvalidDataException($"{labels}: record {bad} (offset {8 + bad}) has label {y.Data[bad]}; expected 0 to 9.");
        return new LabelledImages(images, x.Data, y.Data, 1, 28, 28, 10);
    }
}
