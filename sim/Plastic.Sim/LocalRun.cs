using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Plastic.Compute;
using Plastic.Rules;
using Plastic.Sim.Actors;
using Plastic.Sim.Blocks;
using Plastic.Sim.Protocol;
using Plastic.Topology;

namespace Plastic.Sim;

/// <summary>How to run a local-learning network.</summary>
public sealed record LocalRunOptions(
    long Steps,
    int BatchSize = 32,
    ulong Seed = 2,
    /// <summary>Steps allowed in flight: 1 = sequential (step t+1 starts when every layer has finished t).</summary>
    int MaxInFlight = 1,
    /// <summary>PAPER.md 4.3: AdamW, lr 2e-4, weight decay 0.</summary>
    float LearningRate = 2e-4f);

/// <summary>What a run produced: each layer's local loss per step and its final parameters.</summary>
public sealed record LocalRunResult(
    ImmutableDictionary<string, ImmutableArray<double>> Losses,
    ImmutableDictionary<string, Parameters> Parameters,
    TimeSpan Elapsed);

/// <summary>
/// Builds the actor graph of a network spec under local learning, runs it and collects the result.
/// Each layer actor gets its own backend from <paramref name="backendFactory"/>, its block and rule
/// initialised from (seed, layer), so the same seed gives the same weights bit for bit.
/// </summary>
public static class LocalRun
{
    public static async Task<LocalRunResult> RunAsync(NetworkSpec spec, LocalRunOptions options, Func<IComputeBackend> backendFactory, IBatchSource? source = null)
    {
        var shapes = NetworkValidator.Validate(spec);
        var wiring = GraphWiring.Local(spec);
        source ??= new SyntheticBatches(spec.Input, options.BatchSize, options.Seed);
        var optimizer = new AdamWSettings(options.LearningRate);
        var losses = spec.Layers.ToDictionary(l => l.Name, _ => new double[options.Steps]);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        using var system = ActorSystem.Create("plastic", ConfigurationFactory.ParseString(QuietLogging + SimMessageSerializer.Config));
        var clock = Stopwatch.StartNew();
        Action<StepDone> record = d => losses[d.Layer][d.Step] = d.Loss; // called from the input actor only
        var input = system.ActorOf(Props.Create(() => new InputActor(source, wiring, spec.Layers.Count, options.Steps, options.MaxInFlight, record, finished)),
            GraphWiring.InputNode);
        var nodes = ImmutableDictionary.CreateBuilder<string, IActorRef>();
        nodes[GraphWiring.InputNode] = input;
        for (int i = 0; i < shapes.Count; i++)
        {
            var backend = backendFactory();
            var setup = new LayerSetup(spec.Layers[i].Name, backend,
                new LayerBlock(backend, shapes[i], new RandomStream(options.Seed, (ulong)i)),
                CreateRule(spec, shapes[i], backend, new RandomStream(options.Seed, 1000UL + (ulong)i), optimizer),
                wiring, optimizer, input);
            nodes[setup.Name] = system.ActorOf(Props.Create(() => new LocalLayerActor(setup)), setup.Name);
        }
        var connect = new Connect(nodes.ToImmutable());
        foreach (var name in spec.Layers.Select(l => l.Name)) connect.Nodes[name].Tell(connect);
        input.Tell(connect);

        await finished.Task.ConfigureAwait(false);
        clock.Stop();
        var parameters = ImmutableDictionary.CreateBuilder<string, Parameters>();
        foreach (var layer in spec.Layers)
            parameters[layer.Name] = await connect.Nodes[layer.Name].Ask<Parameters>(new GetParameters(), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        await system.Terminate().ConfigureAwait(false);
        return new LocalRunResult(losses.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray()), parameters.ToImmutable(), clock.Elapsed);
    }

    /// <summary>Akka logs warnings and errors only: a run's output is its results, not the actor system's start-up.</summary>
    private const string QuietLogging = "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING\nakka.log-dead-letters-during-shutdown = off\n";

    private static ILocalRule CreateRule(NetworkSpec spec, LayerShape shape, IComputeBackend backend, RandomStream init, AdamWSettings optimizer)
    {
        string rule = spec.RuleOf(shape.Layer);
        if (spec.Feedback.Any(e => e.To == shape.Layer.Name))
            throw new ArgumentException($"Layer '{shape.Layer.Name}': direct-feedback rules are not implemented yet; remove its feedback edge or wait for the rules issue.");
        return rule switch
        {
            "clapp++" => new LateralHingeRule(backend, shape.LossFeatures.Size, shape.Layer.LossPool, init, optimizer),
            _ => throw new ArgumentException($"Layer '{shape.Layer.Name}': rule '{rule}' is not available for local runs yet. Available: clapp++."),
        };
    }
}
