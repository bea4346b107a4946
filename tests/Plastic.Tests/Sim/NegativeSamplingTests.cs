using System.Collections.Concurrent;
using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim;
using Plastic.Sim.Negatives;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>Negatives are drawn once per step at the input and every layer's rule sees the same ones.</summary>
public sealed class NegativeSamplingTests
{
    private static readonly NetworkSpec Net = Presets.Mlp(6, [5, 5, 4], "clapp++");

    /// <summary>Runs the network and returns, per layer, the negatives its rule was given at each step.</summary>
    private static async Task<Dictionary<string, List<int[]>>> SeenNegatives(NegativeSampling mode, ulong seed, int steps = 5)
    {
        var seen = new ConcurrentDictionary<string, List<int[]>>();
        await Simulation.RunAsync(Net, new RunOptions(steps, BatchSize: 6, Seed: seed) { Schedule = new(MaxInFlight: 2), Negatives = mode }, () => new CpuBackend(threads: 1),
            rules: (spec, shape, backend, init, optimizer) =>
                new Recording(Simulation.DefaultRule(spec, shape, backend, init, optimizer), seen.GetOrAdd(shape.Layer.Name, _ => [])));
        return seen.ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    [Theory]
    [InlineData(NegativeSampling.Next)]
    [InlineData(NegativeSampling.Random)]
    [InlineData(NegativeSampling.Shift)]
    public async Task Every_layer_sees_the_same_negatives_and_the_seed_reproduces_them(NegativeSampling mode)
    {
        var first = await SeenNegatives(mode, seed: 3);
        var again = await SeenNegatives(mode, seed: 3);
        var reference = first[Net.Layers[0].Name];
        Assert.Equal(5, reference.Count);
        foreach (var layer in Net.Layers.Select(l => l.Name))
        {
            Assert.Equal(reference, first[layer]);
            Assert.Equal(reference, again[layer]);
        }
        Assert.All(reference, negatives => { Assert.Equal(12, negatives.Length); Assert.All(negatives, j => Assert.InRange(j, 0, 11)); });
    }

    [Fact]
    public async Task Random_negatives_change_with_the_seed_and_the_step_and_next_is_the_following_sample()
    {
        var a = (await SeenNegatives(NegativeSampling.Random, seed: 3))[Net.Layers[0].Name];
        var b = (await SeenNegatives(NegativeSampling.Random, seed: 4))[Net.Layers[0].Name];
        Assert.NotEqual(a, b);
        Assert.True(a.Skip(1).Any(step => !step.SequenceEqual(a[0])), "random negatives must differ between steps");
        var next = (await SeenNegatives(NegativeSampling.Next, seed: 3))[Net.Layers[0].Name];
        // The released code's default: row r's negative is z_pos[(r + 1) mod 2N] = z[(r + 1 + N) mod 2N].
        Assert.All(next, step => Assert.Equal([7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5, 6], step));
    }

    [Fact]
    public void Shift_never_pairs_a_row_with_its_own_image_and_unknown_modes_are_named()
    {
        var shifts = new HashSet<int>();
        for (long step = 0; step < 50; step++)
        {
            var negatives = NegativeSampler.Draw(NegativeSampling.Shift, 9, step, 5);
            Assert.Equal(10, negatives.Length);
            // Rows r and r + N are the two views of image r mod N: a negative is never either of them.
            for (int r = 0; r < 10; r++) Assert.NotEqual(r % 5, negatives[r] % 5);
            int shift = (negatives[0] - 5 + 10) % 10;
            shifts.Add(shift);
            // One cyclic shift for the whole step.
            for (int r = 0; r < 10; r++) Assert.Equal((r + shift + 5) % 10, negatives[r]);
        }
        Assert.True(shifts.Count > 3, $"the shift must vary between steps, saw {shifts.Count}");
        var e = Assert.Throws<ArgumentException>(() => NegativeSampler.Parse("nearest"));
        Assert.Contains("'nearest'", e.Message);
    }

    /// <summary>Passes everything through to the real rule and notes the negatives of each call.</summary>
    private sealed class Recording(ILocalRule inner, List<int[]> log) : ILocalRule
    {
        public string Name => inner.Name;
        public RuleSignals Needs => inner.Needs;

        public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
        {
            lock (log) log.Add(view.Negatives.ToArray());
            return inner.ComputeUpdate(view, gradWeight, gradBias);
        }

        public void Dispose() => inner.Dispose();
    }
}
