using Xunit.Sdk;

namespace Plastic.Tests.Support;

public static class Tolerance
{
    /// <summary>
    /// |actual - expected| &lt;= rtol * (|expected| + rms(expected)) for every element. The rms term
    /// keeps elements that cancel to near zero (sums of many signed products) from demanding more
    /// than float32 can give; elsewhere this is the plain relative tolerance.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double rtol = 1e-5, string what = "")
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{what}: length {actual.Length}, expected {expected.Length}");
        double sq = 0;
        foreach (float e in expected) sq += (double)e * e;
        double rms = expected.Length == 0 ? 0 : Math.Sqrt(sq / expected.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs((double)actual[i] - expected[i]);
            double allowed = rtol * (Math.Abs(expected[i]) + rms);
            if (!(diff <= allowed))
                throw new XunitException($"{what}: element {i} is {actual[i]}, expected {expected[i]} (|diff| {diff:G3} > {allowed:G3}, rtol {rtol})");
        }
    }

    public static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what = "")
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                throw new XunitException($"{what}: element {i} differs: {actual[i]:R} vs {expected[i]:R}");
    }
}
