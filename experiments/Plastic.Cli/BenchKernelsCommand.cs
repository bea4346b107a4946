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
        var width = new Option<double>("--width") { Description = "Width multiplier of the VGG-6 layer cases (0.125 for vgg6-cifar-small).", DefaultValueFactory = _ => 1.0 };
        var batch = new Option<int>("--batch") { Description = "Images per VGG-6 layer case (64 = both views of a batch of 32).", DefaultValueFactory = _ => 32 };
        var only = new Option<string?>("--only") { Description = "Only the cases whose name starts with this (e.g. vgg6-l6 or \"vgg6-l5 fwd\"), for a profile of one layer." };
        var command = new Command("kernels", "GFLOP/s of GEMM (1024^3, 256x1152x1024) and 3x3 convolutions, with the percentage of the measured FMA peak.")
        {
            device, threads, repeats, json, quick, width, batch, only,
        };
        command.SetAction(parse =>
        {
            int reps = parse.GetValue(repeats);
            if (reps < 1) throw new ArgumentException($"--repeats must be at least 1, got {reps}.");
            using var backend = BackendCatalog.Create(parse.GetValue(device), parse.GetValue(threads));
            int cpuThreads = backend is CpuBackend cpu ? cpu.Threads : 0;

            // The peak is measured before and after the kernels and the higher one kept, so that a
            // busy neighbour during one measurement does not inflate "% peak".
            double? peakBefore = cpuThreads > 0 ? FmaPeak.MeasureGflops(cpuThreads, TimeSpan.FromSeconds(1)) : null;
            if (parse.GetValue(width) <= 0 || parse.GetValue(batch) < 1) throw new ArgumentException("--width must be above 0 and --batch at least 1.");
            var timings = MeasureAll(backend, reps, !parse.GetValue(quick), parse.GetValue(width), parse.GetValue(batch), parse.GetValue(only));
            double? peakAfter = cpuThreads > 0 ? FmaPeak.MeasureGflops(cpuThreads, TimeSpan.FromSeconds(1)) : null;
            double? peak = peakBefore is null || peakAfter is null ? null : Math.Max(peakBefore.Value, peakAfter.Value);

            if (parse.GetValue(json)) PrintJson(backend, cpuThreads, peak, reps, timings);
            else PrintTable(backend, cpuThreads, peak, peakBefore, peakAfter, timings);
            return 0;
        });
        return command;
    }

    private static List<(KernelCase Case, KernelTiming Timing)> MeasureAll(IComputeBackend backend, int repeats, bool includePaperLayers, double width, int batch, string? only)
    {
        var owned = new List<IDisposable>();
        try
        {
            var all = KernelCases.Create(backend, includePaperLayers, owned, width, batch);
            var cases = only is null ? all : all.Where(c => c.Name.StartsWith(only, StringComparison.Ordinal)).ToList();
            if (cases.Count == 0)
                throw new ArgumentException($"--only '{only}' names no case; the cases are: {string.Join(", ", all.Select(c => c.Name).Distinct())}.");
            var timings = new List<(KernelCase, KernelTiming)>();
            // Progress goes to a terminal only, so that logs and pipes get clean output.
            bool progress = !Console.IsErrorRedirected;
            for (int i = 0; i < cases.Count; i++)
            {
                if (progress) Console.Error.Write($"\r[{i + 1}/{cases.Count}] {cases[i].Name} {cases[i].Shape}".PadRight(60));
                timings.Add((cases[i], KernelTimer.Measure(backend, cases[i], repeats)));
            }
            if (progress) Console.Error.Write("\r".PadRight(61) + "\r");
            return timings;
        }
        finally
        {
            owned.ForEach(o => o.Dispose());
        }
    }

    private static void PrintTable(IComputeBackend backend, int cpuThreads, double? peak, double? before, double? after, List<(KernelCase Case, KernelTiming Timing)> timings)
    {
        Console.WriteLine($"backend: {backend.Name} ({backend.DeviceDescription})");
        Console.WriteLine(peak is null
            ? "FMA peak: not measured for this device"
            : $"FMA peak (register-only FMA loop, {cpuThreads} threads): {peak:F0} GFLOP/s (measured {before:F0} before and {after:F0} after the kernels)");
        if (peak is not null && Math.Min(before!.Value, after!.Value) < 0.9 * peak)
            Console.WriteLine("warning: the peak moved by more than 10% during the run; another process is competing for the cores.");
        Console.WriteLine($"{"kernel",-24} {"shape",-22} {"median ms",10} {"GFLOP/s",9} {"% peak",7} {"x fwd",6}");
        foreach (var (c, t) in timings)
        {
            var forward = c.ForwardOf is null ? null : timings.Find(x => x.Timing.Name == c.ForwardOf && x.Timing.Shape == c.Shape).Timing;
            string percent = peak is null ? "" : $"{100 * t.Gflops / peak:F0}%";
            string ratio = forward is null ? "" : $"{t.MedianSeconds / forward.MedianSeconds:F2}";
            Console.WriteLine($"{t.Name,-24} {t.Shape,-22} {t.MedianSeconds * 1e3,10:F3} {t.Gflops,9:F1} {percent,7} {ratio,6}");
        }
    }

    private static void PrintJson(IComputeBackend backend, int cpuThreads, double? peak, int repeats, List<(KernelCase Case, KernelTiming Timing)> timings)
    {
        var document = new
        {
            backend = backend.Name,
            device = backend.DeviceDescription,
            threads = cpuThreads,
            fma_peak_gflops = peak,
            repeats,
            results = timings.Select(x => new
            {
                name = x.Timing.Name,
                shape = x.Timing.Shape,
                flops = x.Timing.Flops,
                median_seconds = x.Timing.MedianSeconds,
                gflops = x.Timing.Gflops,
                percent_of_peak = peak is null ? (double?)null : 100 * x.Timing.Gflops / peak,
                seconds = x.Timing.Seconds,
            }),
        };
        Console.WriteLine(JsonSerializer.Serialize(document, JsonOutput.Options));
    }
}
