using Plastic.Sim;

namespace Plastic.Experiments.Runs;

/// <summary>
/// CPU threads per layer backend. In the pipelined local graph the layers compute at the same time, one
/// thread each (more would oversubscribe the cores); in the sequential schedule and the backprop graph one
/// layer computes at a time, so each may use every core (PLASTIC_THREADS, else all).
/// </summary>
public static class LayerThreads
{
    public static int? For(GraphKind graph, int maxInFlight) => graph == GraphKind.Local && maxInFlight > 1 ? 1 : null;
}
