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
}
