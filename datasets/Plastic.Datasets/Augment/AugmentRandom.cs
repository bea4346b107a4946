namespace Plastic.Datasets.Augment;

/// <summary>
/// Counter-based random numbers for augmentations: value k of the stream (seed, epoch, index, view) is a
/// hash of those and k (SplitMix64's finaliser), so any view can be made on any thread, in any order,
/// with the same result. Kept here so that Datasets stays a leaf of the project graph.
/// </summary>
public readonly record struct AugmentRandom(ulong Key)
{
    public static AugmentRandom For(ulong seed, int epoch, int index, int view) =>
        new(Mix(Mix(Mix(seed ^ 0xA06A06A06UL) ^ (ulong)epoch) ^ ((ulong)index << 1 | (uint)view)));

    /// <summary>Uniform in [0, 1), 24 bits.</summary>
    public float Uniform(ulong counter) => (Mix(Key + counter * 0x9E3779B97F4A7C15UL) >> 40) * (1f / (1 << 24));

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
