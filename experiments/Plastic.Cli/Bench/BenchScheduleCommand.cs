using System.CommandLine;
using System.Globalization;
using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Sim.Tracing;
using Plastic.Topology;

namespace Plastic.Cli.Bench;

/// <summary>
/// `plastic bench schedule`: what the event-driven pipeline buys. The local graph is timed in three ways,
/// interleaved round by round: one step in flight with one thread per layer (within a step a layer's update
/// still overlaps the next layer's forward pass), one step in flight with every core inside each layer
/// (parallel kernels), and several steps in flight with one thread per layer (layers on different
/// minibatches at once). Per-layer busy time comes from the message-handling spans; from the single-thread
/// costs a model predicts the pipelined throughput on P cores: one step per max(slowest layer, total / P).
/// </summary>
public static class BenchScheduleCommand
{
    private sealed record Timing(double StepsPerSecond, IReadOnlyDictionary<string, TimeSpan> Busy, double Wall);

    /// <summary>
    /// One step in flight and one thread per layer is not one core: a layer's update overlaps the next
    /// layer's forward pass on another core. The name says so; the real one-core figure is the same run
    /// under `taskset -c 0` (experiments/bench/cores.sh).
    /// </summary>
    private const string Overlapped = "sequential, 1 thread per layer (up to 2 cores)";

    public static Command Build()
    {
        var spec = new Option<string?>("--spec") { Description = "Network spec or preset (default vgg6-cifar-small, CLAPP++)." };
        var steps = new Option<int>("--steps") { Description = "Timed steps per run.", DefaultValueFactory = _ => 40 };
        var warmup = new Option<int>("--warmup") { Description = "Steps before the timed ones.", DefaultValueFactory = _ => 8 };
        var batch = new Option<int>("--batch") { Description = "Samples per view.", DefaultValueFactory = _ => 32 };
        var rounds = new Option<int>("--rounds") { Description = "Interleaved rounds; medians are reported.", DefaultValueFactory = _ => 3 };
        var inFlight = new Option<int>("--in-flight") { Description = "Steps in flight for the pipelined schedule.", DefaultValueFactory = _ => 4 };
        var command = new Command("schedule", "Sequential (one step in flight) against pipelined schedule of the local graph: steps/s, speed-up, per-layer utilisation, a model for more cores.")
            { spec, steps, warmup, batch, rounds, inFlight };
        command.SetAction(parse =>
        {
            var network = Plastic.Experiments.NetworkResolver.Resolve(parse.GetValue(spec) ?? "vgg6-cifar-small");
            int stepCount = parse.GetValue(steps), warm = parse.GetValue(warmup), batchSize = parse.GetValue(batch), roundCount = parse.GetValue(rounds), pipelined = parse.GetValue(inFlight);
            if (stepCount < 2 || warm < 1 || batchSize < 2 || roundCount < 1 || pipelined < 2)
                throw new ArgumentException("--steps must be at least 2, --warmup and --rounds at least 1, --batch and --in-flight at least 2.");
            int cores = Environment.ProcessorCount;
            var layers = network.Layers.Select(l => l.Name).ToList();
            Console.WriteLine($"network {network.Name} ({network.Rule}), {layers.Count} layers, batch {batchSize} x 2 views, {warm} + {stepCount} steps, {cores} cores");

            Timing Time(int maxInFlight, int threads)
            {
                long total = warm + stepCount;
                var clock = new StepClock(layers.Count, total);
                using var busy = new NodeBusyTime();
                var result = Simulation.RunAsync(network, new RunOptions(total, batchSize) { Schedule = new ScheduleOptions(maxInFlight) }, () => new CpuBackend(threads), observer: clock)
                    .GetAwaiter().GetResult();
                return new Timing(stepCount / clock.Between(warm - 1, total - 1), busy.Busy, result.Elapsed.TotalSeconds);
            }
            Time(pipelined, 1); // warm-up: JIT and first allocations
            var runs = new Dictionary<string, List<Timing>> { [Overlapped] = [], [$"sequential, {cores} threads per layer"] = [], ["pipelined, 1 thread per layer"] = [] };
            for (int r = 0; r < roundCount; r++)
            {
                runs[Overlapped].Add(Time(1, 1));
                runs[$"sequential, {cores} threads per layer"].Add(Time(1, cores));
                runs["pipelined, 1 thread per layer"].Add(Time(pipelined, 1));
                Console.WriteLine($"round {r + 1}: " + string.Join(", ", runs.Select(kv => $"{kv.Key} {kv.Value[^1].StepsPerSecond:F2} steps/s")));
            }
            static double Median(IEnumerable<double> v) { var s = v.Order().ToList(); return s[s.Count / 2]; }
            var median = runs.ToDictionary(kv => kv.Key, kv => Median(kv.Value.Select(t => t.StepsPerSecond)));
            double seq1 = median[Overlapped], seqAll = median[$"sequential, {cores} threads per layer"], pipe = median["pipelined, 1 thread per layer"];
            Console.WriteLine();
            foreach (var (name, rate) in median) Console.WriteLine($"median {name,-48} {rate,7:F2} steps/s  {rate * batchSize,7:F0} images/s");
            Console.WriteLine($"speed-up of the pipeline: {pipe / seq1:F2}x over one step in flight with a thread per layer (not one core: a layer's update overlaps the next one's forward), {pipe / seqAll:F2}x over one step in flight with {cores}-thread kernels; one core against all: experiments/bench/cores.sh");

            // Per-layer cost per step on one thread (one step in flight: at most a layer and its successor overlap,
            // so on 2+ cores each layer has its core), and the pipeline's utilisation. The sum is one core's time per step.
            var single = runs[Overlapped].MinBy(t => Math.Abs(t.StepsPerSecond - seq1))!;
            var overlapped = runs["pipelined, 1 thread per layer"].MinBy(t => Math.Abs(t.StepsPerSecond - pipe))!;
            long stepsRun = warm + stepCount;
            var cost = layers.ToDictionary(l => l, l => single.Busy.GetValueOrDefault(l).TotalSeconds / stepsRun);
            Console.WriteLine();
            Console.WriteLine("layer       ms/step (1 thread)   share   pipelined: busy %   idle %");
            foreach (var l in layers)
            {
                double utilisation = overlapped.Busy.GetValueOrDefault(l).TotalSeconds / overlapped.Wall;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{l,-10} {1000 * cost[l],12:F2}       {100 * cost[l] / cost.Values.Sum(),5:F1} %        {100 * utilisation,5:F1}     {100 * (1 - utilisation),5:F1}"));
            }
            Console.WriteLine("(pipelined busy time is wall time inside message handling; with more busy layers than cores it includes waiting for a core)");
            double total = cost.Values.Sum(), slowest = cost.Values.Max();
            Console.WriteLine();
            Console.WriteLine($"model, one thread per layer: steps/s = 1 / max(slowest layer {1000 * slowest:F1} ms, all layers {1000 * total:F1} ms / cores); bound {total / slowest:F2}x at {layers.Count} cores");
            foreach (int p in new[] { 1, 2, 4, 8, layers.Count }.Distinct().Order())
            {
                double predicted = 1 / Math.Max(slowest, total / p);
                string measured = p == cores ? $"  (measured here: {pipe:F2} steps/s, {pipe / predicted:P0} of the model)" : "";
                Console.WriteLine($"  {p,2} cores: {predicted,6:F2} steps/s, {predicted * total:F2}x one core{measured}");
            }
            return 0;
        });
        return command;
    }
}
