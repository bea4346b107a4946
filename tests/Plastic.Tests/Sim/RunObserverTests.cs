using System.Collections.Concurrent;
using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Sim.Actors;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>A run's observer: every node's finished steps, and the parameters the online probe sees.</summary>
public sealed class RunObserverTests
{
    private sealed class Recorder : IRunObserver
    {
        public ConcurrentBag<(long Step, string Node)> Steps { get; } = [];
        public ConcurrentDictionary<long, IReadOnlyDictionary<string, Parameters>> Parameters { get; } = [];
        public void StepDone(long step, string node, double loss) => Steps.Add((step, node));
        public void ParametersAt(long step, IReadOnlyDictionary<string, Parameters> parameters) => Parameters[step] = parameters;
    }

    private static NetworkSpec Net => new("conv", new InputSpec(2, 8, 8),
    [
        new LayerSpec("c1", LayerKind.Conv, 6, LossPool: 2),
        new LayerSpec("c2", LayerKind.Conv, 8, MaxPool: 2, LossPool: 2),
    ], [], "clapp++");

    private static Task<RunResult> Run(long steps, GraphKind graph, IRunObserver? observer = null, int observeEvery = 0, int alignEvery = 0) =>
        Simulation.RunAsync(Net, new RunOptions(steps, BatchSize: 4, Seed: 3, Graph: graph) { Schedule = new(MaxInFlight: graph == GraphKind.Local ? 3 : 1), Optimizer = new(1e-2f), Instruments = new(ObserveEvery: observeEvery, AlignEvery: alignEvery) }, () => new CpuBackend(threads: 1), observer: observer);

    [Theory]
    [InlineData(GraphKind.Local)]
    [InlineData(GraphKind.Backprop)]
    public async Task The_parameters_observed_at_step_t_are_those_after_t_updates(GraphKind graph)
    {
        var recorder = new Recorder();
        var run = await Run(6, graph, recorder, observeEvery: 2, alignEvery: graph == GraphKind.Local ? 3 : 0);
        Assert.Equal([0L, 2L, 4L], recorder.Parameters.Keys.Order());
        var shorter = await Run(4, graph);
        var initial = await Run(1, graph);
        foreach (var layer in Net.Layers.Select(l => l.Name))
        {
            Assert.Equal(shorter.Parameters[layer].Weight.ToArray(), recorder.Parameters[4][layer].Weight.ToArray());
            Assert.Equal(shorter.Parameters[layer].Bias.ToArray(), recorder.Parameters[4][layer].Bias.ToArray());
            Assert.NotEqual(initial.Parameters[layer].Weight.ToArray(), recorder.Parameters[0][layer].Weight.ToArray());   // one update apart
        }
        // Alignment (every 3) and observation (every 2) share the snapshots of every step they need, no more.
        if (graph == GraphKind.Local) Assert.Equal([0L, 3L], run.Alignment.Select(a => a.Step).Distinct());
        int nodes = graph == GraphKind.Local ? 2 : 3;
        Assert.Equal(6 * nodes, recorder.Steps.Count);
        Assert.Equal(6 * nodes, recorder.Steps.Distinct().Count());
    }

    [Fact]
    public async Task Observing_needs_an_observer()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Run(2, GraphKind.Local, observer: null, observeEvery: 1));
        Assert.Contains("observer", e.Message);
    }
}
