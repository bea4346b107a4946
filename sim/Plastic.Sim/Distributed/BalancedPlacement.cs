using System.Collections.Immutable;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim.Distributed;

/// <summary>
/// The layers of a local-graph run shared out among workers so that each worker's layers cost about the same
/// a step, from measured costs. Why not contiguous groups: a worker whose actors run on one core (a local
/// cluster on 2 cores) sets the pace with its share of the work, and the quickstart's best contiguous cut
/// gives the first worker 54 % of it (block1-3 against block4-6); block1, block2 and block6 against block3-5
/// is within 2 % of even (TRAINING.md, 2026-12-05). A layer's numbers never depend on where it runs.
/// </summary>
public static class BalancedPlacement
{
    /// <summary>Assignments searched exhaustively up to this many (workers ^ layers); above it, the best contiguous cut.</summary>
    public const int ExhaustiveLimit = 1 << 20;

    /// <summary>
    /// Of the placements whose busiest worker is within this share of the best possible, the one with the fewest
    /// edges between workers (each crossing tensor is copied twice more and is a message between processes).
    /// </summary>
    public const double Slack = 0.03;

    /// <summary>
    /// Every layer on one of worker1 .. workerN, each worker at least one, the busiest worker's summed cost
    /// as low as can be (within <see cref="Slack"/>, then fewest crossing edges). Workers are numbered in the
    /// order of their first layer. The backprop graph keeps contiguous groups (<see cref="Placement.Split"/>):
    /// it runs one layer at a time, so its cost is not shared out anyway.
    /// </summary>
    public static Placement Of(NetworkSpec spec, GraphKind graph, int workers, IReadOnlyDictionary<string, double> cost)
    {
        if (graph == GraphKind.Backprop) return Placement.Split(spec, graph, workers);
        var layers = spec.Layers.Select(l => l.Name).ToList();
        if (workers < 1) throw new ArgumentException($"--local-cluster {workers}: at least 1 worker process.");
        if (workers > layers.Count) throw new ArgumentException($"{workers} workers for {layers.Count} layers: each worker needs at least one layer.");
        var missing = layers.Where(l => !cost.TryGetValue(l, out double c) || !double.IsFinite(c) || c < 0).ToList();
        if (missing.Count > 0) throw new ArgumentException($"Balanced placement: no usable cost for {string.Join(", ", missing)}.");
        var costs = layers.Select(l => cost[l]).ToArray();
        var edges = Edges(spec, layers);
        int[] groups = Math.Pow(workers, layers.Count) <= ExhaustiveLimit ? Exhaustive(costs, edges, workers) : Contiguous(costs, workers);
        var roles = ImmutableDictionary.CreateBuilder<string, string>();
        for (int i = 0; i < layers.Count; i++) roles[layers[i]] = Placement.WorkerRole(groups[i] + 1);
        return new Placement(roles.ToImmutable());
    }

    /// <summary>The spec's edges between layers (forward chain and feedback), as pairs of layer indices.</summary>
    private static (int From, int To)[] Edges(NetworkSpec spec, List<string> layers)
    {
        var index = layers.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i);
        var chain = Enumerable.Range(1, layers.Count - 1).Select(i => (i - 1, i));
        var feedback = spec.Feedback.Where(e => index.ContainsKey(e.From) && index.ContainsKey(e.To)).Select(e => (index[e.From], index[e.To]));
        return [.. chain.Concat(feedback)];
    }

    /// <summary>Every assignment in canonical form (a worker's number is the order of its first layer): the best by load, then crossings.</summary>
    private static int[] Exhaustive(double[] costs, (int From, int To)[] edges, int workers)
    {
        var candidates = new List<(int[] Groups, double Busiest, int Crossings)>();
        var groups = new int[costs.Length];
        var load = new double[workers];
        void Place(int layer, int used)
        {
            if (layer == costs.Length)
            {
                if (used == workers) candidates.Add(([.. groups], load.Max(), edges.Count(e => groups[e.From] != groups[e.To])));
                return;
            }
            // Too few layers left to give every unused worker one: no complete assignment below.
            if (workers - used > costs.Length - layer) return;
            for (int g = 0; g <= Math.Min(used, workers - 1); g++)
            {
                groups[layer] = g;
                load[g] += costs[layer];
                Place(layer + 1, Math.Max(used, g + 1));
                load[g] -= costs[layer];
            }
        }
        Place(0, 0);
        double best = candidates.Min(c => c.Busiest);
        return candidates.Where(c => c.Busiest <= best * (1 + Slack))
            .OrderBy(c => c.Crossings).ThenBy(c => c.Busiest).First().Groups;
    }

    /// <summary>Consecutive layers per worker, the cut whose busiest group costs least (dynamic programming over cut points).</summary>
    private static int[] Contiguous(double[] costs, int workers)
    {
        int n = costs.Length;
        var prefix = new double[n + 1];
        for (int i = 0; i < n; i++) prefix[i + 1] = prefix[i] + costs[i];
        // best[k, i]: the least busiest group of the first i layers in k groups; cut[k, i]: where the last group starts.
        var best = new double[workers + 1, n + 1];
        var cut = new int[workers + 1, n + 1];
        for (int i = 0; i <= n; i++) best[1, i] = prefix[i];
        for (int k = 2; k <= workers; k++)
            for (int i = k; i <= n; i++)
            {
                best[k, i] = double.PositiveInfinity;
                for (int j = k - 1; j < i; j++)
                {
                    double busiest = Math.Max(best[k - 1, j], prefix[i] - prefix[j]);
                    if (busiest < best[k, i]) (best[k, i], cut[k, i]) = (busiest, j);
                }
            }
        var groups = new int[n];
        for (int k = workers, end = n; k >= 1; k--)
        {
            int start = k == 1 ? 0 : cut[k, end];
            for (int i = start; i < end; i++) groups[i] = k - 1;
            end = start;
        }
        return groups;
    }
}
