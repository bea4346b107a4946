using System.Diagnostics;
using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Cli.Cluster;

/// <summary>
/// What each layer of a local-graph run costs a step, measured here before a local cluster places them: a
/// few steps of the network on synthetic batches, one step in flight, each layer on one thread of the CPU
/// backend, busy time summed from the spans of the messages each layer handled (the same measure as `plastic
/// bench train`'s utilisation). Only the layers' ratios are used; their numbers never depend on where they run.
/// </summary>
internal static class LayerCosts
{
    /// <summary>
    /// Steps before the timed ones: the runtime compiles a method again, optimised, only after about 30 calls; after one
    /// warm-up step the quickstart's block1 measured 29 ms a step instead of 7 and was placed as the costliest layer.
    /// </summary>
    public const int WarmupSteps = 10;

    /// <summary>Steps timed after the warm-up.</summary>
    public const int TimedSteps = 5;

    /// <summary>Seconds a step of each layer.</summary>
    public static IReadOnlyDictionary<string, double> Measure(NetworkSpec network, int batch)
    {
        var source = new RepeatedBatch(new SyntheticBatches(network.Input, batch, seed: 0));
        using var busy = new NodeBusyTime();
        Run(network, batch, WarmupSteps, source);
        busy.Reset();
        Run(network, batch, TimedSteps, source);
        var times = busy.Busy;
        return network.Layers.ToDictionary(l => l.Name, l => times.TryGetValue(l.Name, out var t) ? t.TotalSeconds / TimedSteps : double.NaN);
    }

    private static void Run(NetworkSpec network, int batch, int steps, IBatchSource source) =>
        Simulation.RunAsync(network, new RunOptions(steps, batch), () => new CpuBackend(threads: 1), source).GetAwaiter().GetResult();

    /// <summary>"block1 7.2 ms, block2 13.1 ms, ..." for the console.</summary>
    public static string Describe(IReadOnlyDictionary<string, double> costs) =>
        string.Join(", ", costs.Select(kv => $"{kv.Key} {kv.Value * 1000:F1} ms"));
}
