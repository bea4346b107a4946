using System.Diagnostics;
using Plastic.Compute;
using Plastic.Rules;
using Plastic.Sim.Actors;
using Plastic.Sim.Blocks;
using Plastic.Sim.Negatives;
using Plastic.Topology;

namespace Plastic.Sim.Steps;

/// <summary>
/// What a step of each layer of a local-graph network costs on one thread, each layer timed alone: its forward
/// pass, its rule's update and the optimiser's step, as a run's layer actor computes them (built as a run with
/// the seed builds it), on synthetic views. Why alone and not from a run's spans: with one step in flight a
/// layer's update overlaps the next layer's forward pass, and their spans then measured block4 at 17-22 ms a step
/// against 11-12 ms alone, enough to place the quickstart's layers badly (TRAINING.md, 2026-12-05).
/// </summary>
public static class LayerCosts
{
    /// <summary>
    /// Steps before the timed ones: the runtime compiles a method again, optimised, only after about 30 calls; after
    /// one warm-up step the quickstart's block1 measured 29 ms a step instead of 7.
    /// </summary>
    public const int WarmupSteps = 10;

    /// <summary>Steps timed after the warm-up; each layer's cost is its fastest step (the least disturbed by other work).</summary>
    public const int TimedSteps = 5;

    /// <summary>Seconds a step of each layer, by name.</summary>
    public static IReadOnlyDictionary<string, double> Measure(NetworkSpec spec, int batch, ulong seed, Func<IComputeBackend> backendFactory)
    {
        if (batch < 2) throw new ArgumentException($"batch {batch}: at least 2, so that each sample has a negative.");
        var shapes = NetworkValidator.Validate(spec);
        var negatives = NegativeSampler.Next(batch);
        var optimizer = new AdamWSettings(RunOptions.PaperLearningRate);
        var fastest = shapes.ToDictionary(s => s.Layer.Name, _ => double.PositiveInfinity);
        using var backend = backendFactory();
        var blocks = shapes.Select((s, i) => new LayerBlock(backend, s, new RandomStream(seed, (ulong)i))).ToList();
        var rules = shapes.Select((s, i) => Simulation.DefaultRule(spec, s, backend, new RandomStream(seed, 1000UL + (ulong)i), optimizer)).ToList();
        var states = blocks.Select(b => new ParameterState(backend, b)).ToList();
        var references = new Dictionary<string, TopDownSource>();
        var views = new SyntheticBatches(spec.Input, batch, seed).Batch(0).Views;
        using var input = backend.Upload(views.Values, new Shape([.. views.Dims]));
        try
        {
            for (int step = 0; step < WarmupSteps + TimedSteps; step++)
            {
                var x = input;
                var forward = new double[blocks.Count];
                for (int l = 0; l < blocks.Count; l++)
                {
                    long start = Stopwatch.GetTimestamp();
                    x = blocks[l].Forward(x);
                    backend.Synchronize();
                    forward[l] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
                // Updates after every forward pass, as a top-down reference comes from a layer above.
                for (int l = 0; l < blocks.Count; l++)
                {
                    long start = Stopwatch.GetTimestamp();
                    Tensor? topDown = TopDown(spec, shapes, blocks, rules, references, l, backend);
                    rules[l].ComputeUpdate(blocks[l].ViewForRule(batch, negatives.AsMemory(), topDown, step), states[l].GradWeight, states[l].GradBias);
                    states[l].Step(optimizer, step);
                    backend.Synchronize();
                    string name = shapes[l].Layer.Name;
                    if (step >= WarmupSteps) fastest[name] = Math.Min(fastest[name], forward[l] + Stopwatch.GetElapsedTime(start).TotalSeconds);
                }
            }
            return fastest;
        }
        finally
        {
            foreach (var r in references.Values) r.Dispose();
            states.ForEach(s => s.Dispose());
            rules.ForEach(r => r.Dispose());
            blocks.ForEach(b => b.Dispose());
        }
    }

    /// <summary>A layer fed a top-down reference (CLAPP++DFB) gets it from its sender's output of this step, of this step, as in a run.</summary>
    private static Tensor? TopDown(NetworkSpec spec, IReadOnlyList<LayerShape> shapes, List<LayerBlock> blocks, List<ILocalRule> rules,
        Dictionary<string, TopDownSource> references, int l, IComputeBackend backend)
    {
        var from = spec.Feedback.FirstOrDefault(e => e.To == spec.Layers[l].Name)?.From;
        if (from is null || !rules[l].Needs.HasFlag(RuleSignals.TopDownReference)) return null;
        int source = spec.Layers.ToList().FindIndex(s => s.Name == from);
        if (!references.TryGetValue(from, out var sender)) references[from] = sender = new TopDownSource(backend, shapes[source]);
        return sender.Reference(blocks[source].Output);
    }
}
