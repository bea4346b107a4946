namespace Plastic.Compute;

/// <summary>
/// A counter-based random stream keyed by (seed, stream). Element i of any draw depends only on the
/// key and i, never on threads or call order, so a draw is the same on every backend and thread count.
/// Derive a new key for each new draw (e.g. per step) instead of advancing a state.
/// </summary>
public readonly record struct RandomStream(ulong Seed, ulong Stream)
{
    public RandomStream Derive(ulong substream) => new(Seed, Mix(Stream ^ 0x9E3779B97F4A7C15UL, substream));

    /// <summary>64 random bits for counter <paramref name="counter"/>.</summary>
    public ulong Bits(ulong counter) => Hash(Seed, Stream, counter);

    /// <summary>Uniform in [0, 1) with 24 bits, the resolution of a float.</summary>
    public float Uniform(ulong counter) => UniformFromBits(Bits(counter));

    /// <summary>Standard normal by Box-Muller from the two 32-bit halves of one hash.</summary>
    public float Normal(ulong counter) => NormalFromBits(Bits(counter));

    internal static ulong Hash(ulong seed, ulong stream, ulong counter) =>
        Mix(Mix(seed ^ 0xD1B54A32D192ED03UL, stream), counter);

    // SplitMix64's finaliser over a combined word: cheap, stateless and good enough for weights and noise.
    internal static ulong Mix(ulong a, ulong b)
    {
        ulong z = a + 0x9E3779B97F4A7C15UL * (b + 1UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    internal static float UniformFromBits(ulong bits) => (bits >> 40) * (1f / 16777216f);

    internal static float NormalFromBits(ulong bits)
    {
        // 1 - u keeps the logarithm finite; the angle uses the low half.
        float u1 = 1f - (bits >> 40) * (1f / 16777216f);
        float u2 = ((bits >> 8) & 0xFFFFFFUL) * (1f / 16777216f);
        return MathF.Sqrt(-2f * MathF.Log(u1)) * MathF.Cos(2f * MathF.PI * u2);
    }

    /// <summary>A uniformly random permutation of 0..n-1 (Fisher-Yates driven by this stream).</summary>
    public int[] Permutation(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)(Bits((ulong)i) % (ulong)(i + 1));
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
