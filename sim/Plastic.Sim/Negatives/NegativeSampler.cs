using System.Collections.Immutable;
using Plastic.Compute;

namespace Plastic.Sim.Negatives;

/// <summary>
/// How each step chooses every row's negative (PAPER.md 3.1). The 2N rows of a step are its two views
/// stacked (view 1 first); the released code pairs row r with z_pos[r] = z[(r + N) mod 2N] and takes
/// the negative from the view-swapped batch z_pos, at z_pos[pi(r)], i.e. at row (pi(r) + N) mod 2N. The
/// modes differ in pi. The choice is made once, at the input, and broadcast to every layer.
/// </summary>
public enum NegativeSampling
{
    /// <summary>pi(r) = r + 1 (mod 2N): the released code's deterministic "next sample" (negatives[r] = (r + 1 + N) mod 2N).</summary>
    Next,
    /// <summary>
    /// pi(r) uniform over the 2N rows, per row, from the step's random stream, shared by all layers,
    /// with no check against drawing the row's own image (the paper's tutorial, "unified random sampling").
    /// </summary>
    Random,
    /// <summary>
    /// pi(r) = r + s for one random s per step (SCFF's cyclic shift), never 0 or N, so that every
    /// negative is another image.
    /// </summary>
    Shift,
}

/// <summary>Draws a step's negatives (2N entries, rows of the stacked batch); the same (mode, seed, step, N) always gives the same ones.</summary>
public static class NegativeSampler
{
    /// <summary>The stream the draws come from, apart from every layer's (seed, layer) streams.</summary>
    private const ulong NegativesStream = 0x6E65676174697665UL;

    /// <param name="n">Images per view (N); the result has 2N entries.</param>
    public static ImmutableArray<int> Draw(NegativeSampling mode, ulong seed, long step, int n)
    {
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), n, "A batch needs at least 2 images, so that each has a negative.");
        int rows = 2 * n;
        var key = new RandomStream(seed, NegativesStream).Derive((ulong)step);
        Func<int, int> shuffled = mode switch
        {
            NegativeSampling.Next => r => r + 1,
            NegativeSampling.Random => r => (int)(key.Bits((ulong)r) % (ulong)rows),
            NegativeSampling.Shift => Shift(key, n),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Negative sampling: next, random or shift."),
        };
        return [.. Enumerable.Range(0, rows).Select(r => (shuffled(r) + n) % rows)];
    }

    /// <summary>The default pairing of 2N rows: negatives[r] = (r + 1 + N) mod 2N.</summary>
    public static ImmutableArray<int> Next(int n) => Draw(NegativeSampling.Next, 0, 0, n);

    private static Func<int, int> Shift(RandomStream key, int n)
    {
        // s in 1 .. 2N - 1 without N: s = N would pair a row with itself.
        int s = 1 + (int)(key.Bits(ulong.MaxValue) % (ulong)(2 * n - 2));
        if (s >= n) s++;
        return r => r + s;
    }

    /// <summary>Parses a command-line or spec value; the error names the value and the choices.</summary>
    public static NegativeSampling Parse(string text) => text.ToLowerInvariant() switch
    {
        "next" => NegativeSampling.Next,
        "random" => NegativeSampling.Random,
        "shift" => NegativeSampling.Shift,
        _ => throw new ArgumentException($"negatives '{text}': not a negative sampling Plastic knows; choose next, random or shift."),
    };
}
