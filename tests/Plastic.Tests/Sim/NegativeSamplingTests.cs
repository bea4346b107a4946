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
        await Simulation.RunAsync(Net, new RunOptions(steps, BatchSize: 6, Seed: seed, MaxInFlight: 2, Negatives: mode), () => new CpuBackend(threads: 1),
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
        Assert.All(reference, negatives => Assert.All(negatives, j => Assert.InRange(j, 0, 5)));
    }

    [Fact]
    public async Task Random_negatives_change_with_the_seed_and_the_step_and_next_is_the_following_sample()
    {
        var a = (await SeenNegatives(NegativeSampling.Random, seed: 3))[Net.Layers[0].Name];
        var b = (await SeenNegatives(NegativeSampling.Random, seed: 4))[Net.Layers[0].Name];
        Assert.NotEqual(a, b);
        Assert.True(a.Skip(1).Any(step => !step.SequenceEqual(a[0])), "random negatives must differ between steps");
        var next = (await SeenNegatives(NegativeSampling.Next, seed: 3))[Net.Layers[0].Name];
        Assert.All(next, step => Assert.Equal([1, 2, 3, 4, 5, 0], step));
    }

    [Fact]
    public void Shift_never_pairs_a_sample_with_itself_and_unknown_modes_are_named()
    {
        for (long step = 0; step < 50; step++)
        {
            var negatives = NegativeSampler.Draw(NegativeSampling.Shift, 9, step, 5);
            for (int i = 0; i < 5; i++) Assert.NotEqual(i, negatives[i]);
        }
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
