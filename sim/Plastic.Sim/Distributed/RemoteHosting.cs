using System.Collections.Immutable;
using Akka.Actor;
using Plastic.Sim.Actors;

namespace Plastic.Sim.Distributed;

/// <summary>The driver's side of hosting: asks each worker role's node host to build and start its nodes of a run.</summary>
internal static class RemoteHosting
{
    /// <summary>
    /// The placed nodes' actors, by name, and the post of each one's run on its worker (<see cref="RunPost"/>). Every host asked is added to <paramref name="asked"/> before it is
    /// asked, so that a run failing half-way still stops what the hosts before had started.
    /// </summary>
    public static async Task<(ImmutableDictionary<string, IActorRef> Nodes, ImmutableDictionary<string, IActorRef> Posts)> HostAsync(ClusterRun cluster, NodeRecipe recipe, IReadOnlyCollection<string> runNodes,
        string runId, IActorRef driver, List<(string Role, IActorRef Host)> asked)
    {
        var nodes = ImmutableDictionary.CreateBuilder<string, IActorRef>();
        var posts = ImmutableDictionary.CreateBuilder<string, IActorRef>();
        long frame = RemoteFrames.LimitOf(cluster.System) ?? 0;
        foreach (var role in cluster.Placement.WorkerRoles)
        {
            var placed = cluster.Placement.NodesOf(role).Where(runNodes.Contains).ToImmutableArray();
            if (!cluster.Hosts.TryGetValue(role, out var host))
                throw new ArgumentException($"Placement puts {string.Join(", ", placed)} on '{role}', but the cluster has no node host for that role (hosts: {string.Join(", ", cluster.Hosts.Keys)}).");
            string? traces = cluster.TracesDirectory is { } dir ? Path.Combine(Path.GetFullPath(dir), $"traces.{role}.jsonl") : null;
            asked.Add((role, host));
            object answer;
            try
            {
                answer = await host.Ask<object>(new HostNodes(runId, recipe, placed, driver, frame, traces), cluster.HostTimeout).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                throw new TimeoutException($"Worker '{role}' ({host.Path.Address}) did not start {string.Join(", ", placed)} within {cluster.HostTimeout.TotalSeconds:F0} s.");
            }
            if (answer is HostingFailed failed) throw new SimulationException(role, recipe.FirstStep, $"worker '{role}' could not host {string.Join(", ", placed)}: {failed.Reason}");
            var hosted = (NodesHosted)answer;
            foreach (var (name, actor) in hosted.Nodes)
            {
                nodes[name] = actor;
                posts[name] = hosted.Post;
            }
        }
        return (nodes.ToImmutable(), posts.ToImmutable());
    }
}
