using Plastic.Sim.Actors;

namespace Plastic.Sim;

/// <summary>
/// Watches a run from outside the graph: progress for a user, parameters for an online probe. Neither
/// call can change the run; both come from actor threads, so an observer keeps its own state safe.
/// </summary>
public interface IRunObserver
{
    /// <summary>A node finished a step (its loss, or NaN for a node without one). Called in the input node's thread.</summary>
    void StepDone(long step, string node, double loss);

    /// <summary>
    /// Every RunOptions.Instruments.ObserveEvery steps: every layer's parameters as step <paramref name="step"/>'s
    /// forward pass used them (after <paramref name="step"/> updates). Called in the monitor's thread,
    /// which may lag behind the layers; training goes on meanwhile.
    /// </summary>
    void ParametersAt(long step, IReadOnlyDictionary<string, Parameters> parameters);
}
