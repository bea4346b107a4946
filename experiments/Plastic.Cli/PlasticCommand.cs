using System.CommandLine;
using System.CommandLine.Invocation;

namespace Plastic.Cli;

/// <summary>The `plastic` command tree.</summary>
public static class PlasticCommand
{
    /// <summary>
    /// Runs the tool. Bad input (an unknown device, a wrong option value, mismatched shapes) is the
    /// user's to fix: it prints one line naming what was wrong and exits with 2, without a stack trace.
    /// </summary>
    public static int Run(string[] args)
    {
        try
        {
            return Build().Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"plastic: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or TimeoutException)
        {
            // A file that is not what it should be (truncated, damaged, missing, not readable), or a cluster
            // seed that is not there: its message names it.
            Console.Error.WriteLine($"plastic: {e.Message}");
            return 2;
        }
        catch (Plastic.Sim.Actors.SimulationException e)
        {
            // A run that stopped (a node failed, a worker was lost): what happened, where, and at which step.
            Console.Error.WriteLine($"plastic: the run stopped: {e.Message}");
            return 1;
        }
    }

    public static RootCommand Build()
    {
        var root = new RootCommand("Plastic: an event-driven simulator for local self-supervised learning (CLAPP, CLAPP++, Forward-Forward) and its backprop baselines.");
        root.Subcommands.Add(DevicesCommand.Build());
        root.Subcommands.Add(DescribeCommand.Build());
        root.Subcommands.Add(RulesCommand.Build());
        root.Subcommands.Add(Runs.RunCommand.Build());
        root.Subcommands.Add(TraceCommand.Build());
        root.Subcommands.Add(AlignCommand.Build());
        root.Subcommands.Add(TheoryCommand.Build());
        root.Subcommands.Add(DataCommand.Build());
        root.Subcommands.Add(ProbeCommand.Build());
        root.Subcommands.Add(StepCommand.Build());
        root.Subcommands.Add(Compare.CompareCommand.Build());
        root.Subcommands.Add(Cluster.NodeCommand.Build());
        var bench = new Command("bench", "Measure the compute core.");
        bench.Subcommands.Add(BenchKernelsCommand.Build());
        bench.Subcommands.Add(Bench.BenchScheduleCommand.Build());
        bench.Subcommands.Add(Bench.BenchTrainCommand.Build());
        root.Subcommands.Add(bench);
        return root;
    }

    public static Option<string> DeviceOption() => new("--device")
    {
        Description = "Backend: auto, cpu, cuda, opencl or ilgpu-cpu (default: $PLASTIC_DEVICE, else auto).",
    };
}
