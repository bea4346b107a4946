using System.Collections.Immutable;
using Plastic.Compute;

namespace Plastic.Sim.Negatives;

/// <summary>How each step chooses every sample's negative (PAPER.md 3.1). The choice is made once, at the input, and broadcast to every layer.</summary>
public enum NegativeSampling
{
    /// <summary>Sample i's negative is sample i + 1 (mod N): the released code's deterministic "next sample".</summary>
    Next,
    /// <summary>
    /// A uniform draw per sample from the step's random stream, shared by all layers, with no check
    /// against drawing the sample itself (the paper's tutorial, "unified random sampling").
    /// </summary>
    Random,
    /// <summary>One random cyclic shift per step, never zero (SCFF's negatives): every negative is another sample.</summary>
    Shift,
}

/// <summary>Draws a step's negatives; the same (mode, seed, step, N) always gives the same ones.</summary>
public static class NegativeSampler
{
    /// <summary>The stream the draws come from, apart from every layer's (seed, layer) streams.</summary>
    private const ulong NegativesStream = 0x6E65676174697665UL;

    public static ImmutableArray<int> Draw(NegativeSampling mode, ulong seed, long step, int n)
    {
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(n), n, "A batch needs at least 2 samples, so that each has a negative.");
        var key = new RandomStream(seed, NegativesStream).Derive((ulong)step);
        switch (mode)
        {
            case NegativeSampling.Next:
                return [.. Enumerable.Range(0, n).Select(i => (i + 1) % n)];
            case NegativeSampling.Random:
                return [.. Enumerable.Range(0, n).Select(i => (int)(key.Bits((ulong)i) % (ulong)n))];
            case NegativeSampling.Shift:
                int shift = 1 + (int)(key.Bits(ulong.MaxValue) % (ulong)(n - 1));
                return [.. Enumerable.Range(0, n).Select(i => (i + shift) % n)];
            default:
                throw new ArgumentOutOfRangeException(nameof(mode), mode, "Negative sampling: next, random or shift.");
        }
    }

    /// <summary>Parses a command-line or spec value; the error names the value and the choices.</summary>
    public static NegativeSampling Parse(string text) => text.ToLowerInvariant() switch
    {
        "next" => NegativeSampling.Next,
        "random" => NegativeSampling.Random,
        "shift" => NegativeSampling.Shift,
        _ => throw new ArgumentException($"Negative sampling '{text}' is not known; choose next, random or shift."),
    };
}
