namespace Plastic.Tests.Support;

/// <summary>Seeded test inputs, independent of the code under test.</summary>
public static class TestData
{
    public static float[] Normal(int length, int seed)
    {
        var rng = new Random(seed);
        var data = new float[length];
        for (int i = 0; i < length; i++)
            data[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return data;
    }

    public static int[] Labels(int length, int classes, int seed)
    {
        var rng = new Random(seed);
        var labels = new int[length];
        for (int i = 0; i < length; i++) labels[i] = rng.Next(classes);
        return labels;
    }

    /// <summary>
    /// A CIFAR-10 folder under <paramref name="root"/> of random images labelled i mod 10: the training
    /// file holds <paramref name="train"/> of them, the test file the first <paramref name="test"/>.
    /// </summary>
    public static void FakeCifar10(string root, int train, int test, int seed)
    {
        var records = new byte[train * 3073];
        new Random(seed).NextBytes(records);
        for (int i = 0; i < train; i++) records[i * 3073] = (byte)(i % 10);
        Directory.CreateDirectory(Path.Combine(root, "cifar-10-batches-bin"));
        File.WriteAllBytes(Path.Combine(root, "cifar-10-batches-bin", "data_batch_1.bin"), records);
        File.WriteAllBytes(Path.Combine(root, "cifar-10-batches-bin", "test_batch.bin"), records[..(test * 3073)]);
    }
}
