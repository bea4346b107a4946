using Plastic.Compute;
using Plastic.Rules;
using Plastic.Sim.Blocks;

namespace Plastic.Sim;

/// <summary>
/// The driver's layers, made before any actor: each layer's backend, block and (local graph) rule, so
/// that a bad rule name or a rule asking for a signal its layer is not sent fails before anything runs.
/// Workers check theirs when asked to host them, also before any step. Blocks not yet handed to an actor
/// are disposed with this.
/// </summary>
internal sealed class DriverLayers : IDisposable
{
    public Dictionary<int, IComputeBackend> Backends { get; } = [];
    public Dictionary<int, LayerBlock> Blocks { get; } = [];
    public Dictionary<int, ILocalRule> Rules { get; } = [];

    public static DriverLayers Make(RunPlan plan, NodeFactory factory, Func<IComputeBackend> backendFactory, RuleFactory rules)
    {
        var layers = new DriverLayers();
        try
        {
            foreach (int i in plan.DriverLayers)
            {
                layers.Backends[i] = backendFactory();
                layers.Blocks[i] = factory.Block(i, layers.Backends[i]);
            }
            if (plan.Options.Graph == GraphKind.Local)
                foreach (int i in plan.DriverLayers)
                {
                    layers.Rules[i] = factory.Rule(i, layers.Backends[i], rules);
                    DeclaredSignals.Check(plan.Spec.Layers[i].Name, layers.Rules[i], plan.Wiring);
                }
            return layers;
        }
        catch
        {
            layers.Dispose();
            throw;
        }
    }

    /// <summary>Their actors own the blocks from here on.</summary>
    public void HandedOver() => Blocks.Clear();

    public void Dispose()
    {
        foreach (var block in Blocks.Values) block.Dispose();
        Blocks.Clear();
    }
}
