using System.CommandLine;
using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Topology;

namespace Plastic.Cli;

/// <summary>
/// `plastic bench schedule`: steps per second of the local graph with the sequential schedule (one
/// step in flight) and the pipelined one (several), interleaved round by round, and the speed-up.
/// Each layer actor computes on one thread, so the pipelined schedule's gain is layers working on
/// different minibatches at once.
/// </summary>
public static class BenchScheduleCommand
{
    /// <summary>The default 4-layer network: a small VGG-like conv net on 32x32 RGB input.</summary>
    public static NetworkSpec FourLayerConv() => new("conv4-32px", new InputSpec(3, 32, 32),
    [
        new LayerSpec("c1", LayerKind.Conv, 32, LossPool: 4),
        new LayerSpec("c2", LayerKind.Conv, 64, MaxPool: 2, LossPool: 4),
        new LayerSpec("c3", LayerKind.Conv, 64, LossPool: 4),
        new LayerSpec("c4", LayerKind.Conv, 128, MaxPool: 2, LossPool: 2),
    ], [], "clapp++");

    public static Command Build()
    {
        var spec = new Option<string?>("--spec") { Description = "Network spec or preset (default: a 4-layer conv net, 32x32 input, widths 32-64-64-128)." };
        var steps = new Option<int>("--steps") { Description = "Steps per timed run.", DefaultValueFactory = _ => 30 };
        var batch = new Option<int>("--batch") { Description = "Samples per view.", DefaultValueFactory = _ => 16 };
        var rounds = new Option<int>("--rounds") { Description = "Interleaved rounds; medians are reported.", DefaultValueFactory = _ => 5 };
        var inFlight = new Option<int>("--in-flight") { Description = "Steps in flight for the pipelined schedule.", DefaultValueFactory = _ => 4 };
        var command = new Command("schedule", "Sequential against pipelined schedule of the local graph: steps/s and speed-up.") { spec, steps, batch, rounds, inFlight };
        command.SetAction(parse =>
        {
            var network = parse.GetValue(spec) is { } s ? DescribeCommand.Resolve(s) : FourLayerConv();
            int stepCount = parse.GetValue(steps), batchSize = parse.GetValue(batch), roundCount = parse.GetValue(rounds), pipelined = parse.GetValue(inFlight);
            if (stepCount < 1 || batchSize < 2 || roundCount < 1 || pipelined < 2)
                throw new ArgumentException("--steps and --rounds must be at least 1, --batch and --in-flight at least 2.");
            Console.WriteLine($"network {network.Name}, {network.Layers.Count} layers, batch {batchSize} x 2 views, {stepCount} steps, {Environment.ProcessorCount} cores, one thread per layer");
            var sequential = new List<double>();
            var overlapped = new List<double>();
            double Rate(int maxInFlight) =>
                stepCount / Simulation.RunAsync(network, new RunOptions(stepCount, batchSize, MaxInFlight: maxInFlight), () => new CpuBackend(threads: 1))
                    .GetAwaiter().GetResult().Elapsed.TotalSeconds;
            Rate(pipelined); // warm-up: JIT and first allocations
            for (int r = 0; r < roundCount; r++)
            {
                sequential.Add(Rate(1));
                overlapped.Add(Rate(pipelined));
                Console.WriteLine($"round {r + 1}: sequential {sequential[^1]:F1} steps/s, pipelined {overlapped[^1]:F1} steps/s, speed-up {overlapped[^1] / sequential[^1]:F2}");
            }
            double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
            Console.WriteLine($"median: sequential {Median(sequential):F1} steps/s, pipelined ({pipelined} in flight) {Median(overlapped):F1} steps/s, " +
                              $"speed-up {Median(overlapped) / Median(sequential):F2} (median of per-round ratios {Median(overlapped.Zip(sequential, (p, q) => p / q).ToList()):F2})");
            return 0;
        });
        return command;
    }
}
