using System.CommandLine;
using System.Text.Json;
using Plastic.Cli.Bench;
using Plastic.Compute;
using Plastic.Compute.Cpu;

namespace Plastic.Cli;

/// <summary>`plastic bench kernels`: GFLOP/s of GEMM and the paper's 3x3 convolutions, against this machine's FMA peak.</summary>
public static class BenchKernelsCommand
{
    public static Command Build()
    {
        var device = PlasticCommand.DeviceOption();
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: $PLASTIC_THREADS, else all cores)." };
        var repeats = new Option<int>("--repeats") { Description = "Timed runs per kernel; the median is reported.", DefaultValueFactory = _ => 9 };
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of a table." };
        var quick = new Option<bool>("--quick") { Description = "Only GEMM and the 64x32x32x32 convolution, not the six VGG-6 layers." };
        var command = new Command("kernels", "GFLOP/s of GEMM (1024^3, 256x1152x1024) and 3x3 convolutions, with the percentage of the measured FMA peak.")
        {
            device, threads, repeats, json, quick,
        };
        command.SetAction(parse =>
        {
            int reps = parse.GetValue(repeats);
            if (reps < 1) throw new ArgumentException($"--repeats must be at least 1, got {reps}.");
            using var backend = BackendCatalog.Create(parse.GetValue(device), parse.GetValue(threads));
            bool asJson = parse.GetValue(json);
            int cpuThreads = backend is CpuBackend cpu ? cpu.Threads : 0;
            double? peak = cpuThreads > 0 ? FmaPeak.MeasureGflops(cpuThreads, TimeSpan.FromSeconds(1)) : null;
            if (!asJson)
            {
                Console.WriteLine($"backend: {backend.Name} ({backend.DeviceDescription})");
                Console.WriteLine(peak is null ? "FMA peak: not measured for this device" : $"FMA peak (register-only FMA loop, {cpuThreads} threads): {peak:F0} GFLOP/s");
                Console.WriteLine($"{"kernel",-24} {"shape",-22} {"median ms",10} {"GFLOP/s",9} {"% peak",7} {"x fwd",6}");
            }

            var owned = new List<IDisposable>();
            var timings = new List<KernelTiming>();
            try
            {
                foreach (var c in KernelCases.Create(backend, includePaperLayers: !parse.GetValue(quick), owned))
                {
                    var t = KernelTimer.Measure(backend, c, reps);
                    timings.Add(t);
                    if (asJson) continue;
                    var forward = c.ForwardOf is null ? null : timings.Find(x => x.Name == c.ForwardOf && x.Shape == c.Shape);
                    Console.WriteLine($"{t.Name,-24} {t.Shape,-22} {t.MedianSeconds * 1e3,10:F3} {t.Gflops,9:F1} {(peak is null ? "" : $"{100 * t.Gflops / peak:F0}%"),7} {(forward is null ? "" : $"{t.MedianSeconds / forward.MedianSeconds:F2}"),6}");
                }
            }
            finally
            {
                owned.ForEach(o => o.Dispose());
            }

            if (asJson)
            {
                var document = new
                {
                    backend = backend.Name,
                    device = backend.DeviceDescription,
                    threads = cpuThreads,
                    fma_peak_gflops = peak,
                    repeats = reps,
                    results = timings.Select(t => new
                    {
                        name = t.Name,
                        shape = t.Shape,
                        flops = t.Flops,
                        median_seconds = t.MedianSeconds,
                        gflops = t.Gflops,
                        percent_of_peak = peak is null ? (double?)null : 100 * t.Gflops / peak,
                        seconds = t.Seconds,
                    }),
                };
                Console.WriteLine(JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
            }
            return 0;
        });
        return command;
    }
}
