using Akka.Actor;
using Plastic.Compute;
using Plastic.Rules;
using Plastic.Sim.Actors;
using Plastic.Sim.Blocks;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim;

/// <summary>
/// Builds a run's compute nodes (layers and the backprop graph's loss) from the spec and the seed:
/// layer i's block from stream (seed, i), its rule from (seed, 1000 + i), the loss from the top layer's
/// rule stream. The driver's process and a cluster worker use the same factory, which is what makes a
/// layer's weights the same bit for bit wherever it runs.
/// </summary>
internal sealed class NodeFactory(NetworkSpec spec, IReadOnlyList<LayerShape> shapes, RunOptions options, Wiring wiring,
    int snapshotEvery, long firstStep, long? resumedStep, ISendPolicy sends)
{
    /// <summary>The driver's factory: a plan's nodes, sending under the driver system's policy.</summary>
    public static NodeFactory For(RunPlan plan, ISendPolicy sends) =>
        new(plan.Spec, plan.Shapes, plan.Options, plan.Wiring, plan.SnapshotEvery, plan.FirstStep, plan.ResumedStep, sends);

    public AdamWSettings Optimizer => options.Optimizer;

    private CheckpointPlan? Plan => options.Checkpoints.Every > 0 ? new CheckpointPlan(options.Checkpoints.Directory!, options.Checkpoints.Every) : null;

    public int IndexOf(string layer)
    {
        int i = spec.Layers.ToList().FindIndex(l => l.Name == layer);
        return i >= 0 ? i : throw new ArgumentException($"'{layer}' is not a layer of {spec.Name}.");
    }

    public LayerBlock Block(int i, IComputeBackend backend) => new(backend, shapes[i], new RandomStream(options.Seed, (ulong)i));

    public ILocalRule Rule(int i, IComputeBackend backend, RuleFactory rules) =>
        rules(spec, shapes[i], backend, new RandomStream(options.Seed, 1000UL + (ulong)i), Optimizer);

    /// <summary>The actor of layer i; it takes ownership of block and rule (rule null for the backprop graph).</summary>
    public Props LayerProps(int i, IComputeBackend backend, LayerBlock block, ILocalRule? rule, IActorRef driver)
    {
        string name = spec.Layers[i].Name;
        string? resumeFile = ResumeFile(name);
        if (options.Graph == GraphKind.Backprop)
            return Props.Create(() => new BackpropLayerActor(new BackpropLayerSetup(name, backend, block, wiring, Optimizer, driver, snapshotEvery, sends, Plan, resumeFile, options.FaultSteps(name))));
        var window = options.Schedule.LayerSteps.IsDefaultOrEmpty ? null : LearningWindow.Greedy(options.Schedule.LayerSteps)[i];
        var setup = new LayerSetup(name, backend, block, rule!, wiring, Optimizer, driver, firstStep, options.Schedule.Staleness, snapshotEvery, Plan, resumeFile, window, sends, options.FaultSteps(name));
        return Props.Create(() => new LocalLayerActor(setup));
    }

    /// <summary>The backprop graph's loss node. B starts where the top layer's local rule would start, so both graphs begin from the same loss.</summary>
    public Props LossProps(IComputeBackend backend, IActorRef driver)
    {
        var loss = Simulation.TopLoss(spec, shapes[^1], backend, new RandomStream(options.Seed, 1000UL + (ulong)(shapes.Count - 1)), Optimizer);
        string? resumeFile = ResumeFile(GraphWiring.LossNode);
        return Props.Create(() => new LossActor(backend, loss, wiring, driver, sends, Plan, resumeFile));
    }

    /// <summary>A node's file in the checkpoint the run resumes from, or null for a fresh run.</summary>
    private string? ResumeFile(string node) =>
        resumedStep is { } r ? Path.Combine(Checkpoints.LayerCheckpoint.FolderOf(options.Checkpoints.Directory!, r), $"{node}.npz") : null;

    /// <summary>Builds nodes by name (layers, loss) for a host, rules by their built-in names; disposes what it made if one fails.</summary>
    public IReadOnlyList<(string Name, Props Props)> Build(IEnumerable<string> nodes, Func<IComputeBackend> backends, IActorRef driver)
    {
        var made = new List<(string, Props)>();
        var owned = new List<IDisposable>();
        try
        {
            foreach (var node in nodes)
            {
                var backend = backends();
                if (node == GraphWiring.LossNode)
                {
                    if (options.Graph != GraphKind.Backprop) throw new ArgumentException("Only the backprop graph has a loss node.");
                    made.Add((node, LossProps(backend, driver)));
                    continue;
                }
                int i = IndexOf(node);
                var block = Block(i, backend);
                owned.Add(block);
                var rule = options.Graph == GraphKind.Local ? Rule(i, backend, Simulation.DefaultRule) : null;
                made.Add((node, LayerProps(i, backend, block, rule, driver)));
            }
            return made;
        }
        catch
        {
            owned.ForEach(o => o.Dispose());
            throw;
        }
    }
}
