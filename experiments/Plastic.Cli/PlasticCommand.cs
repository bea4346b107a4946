using System.CommandLine;

namespace Plastic.Cli;

/// <summary>The `plastic` command tree.</summary>
public static class PlasticCommand
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Plastic: an event-driven simulator for local self-supervised learning (CLAPP, CLAPP++, Forward-Forward) and its backprop baselines.");
        root.Subcommands.Add(DevicesCommand.Build());
        var bench = new Command("bench", "Measure the compute core.");
        bench.Subcommands.Add(BenchKernelsCommand.Build());
        root.Subcommands.Add(bench);
        return root;
    }

    public static Option<string> DeviceOption() => new("--device")
    {
        Description = "Backend: auto, cpu, cuda, opencl or ilgpu-cpu (default: $PLASTIC_DEVICE, else auto).",
    };
}
