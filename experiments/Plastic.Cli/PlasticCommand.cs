using System.CommandLine;
using System.CommandLine.Invocation;

namespace Plastic.Cli;

/// <summary>The `plastic` command tree.</summary>
public static class PlasticCommand
{
    /// <summary>Prints the stack trace beside an error's one line (for a bug report).</summary>
    public const string VerboseFlag = "--verbose";

    /// <summary>
    /// Runs the tool. Bad input (an unknown device, a wrong option value, mismatched shapes) is the
    /// user's to fix: it prints one line naming what was wrong and exits with 2, without a stack trace.
    /// A run that fails (a node, a lost worker, a full disk) prints one line and exits with 1. With
    /// --verbose the stack trace follows the line.
    /// </summary>
    public static int Run(string[] args)
    {
        bool verbose = args.Contains(VerboseFlag);
        int Fail(int code, string line, Exception? e)
        {
            Console.Error.WriteLine($"plastic: {line}");
            if (verbose && e is not null) Console.Error.WriteLine(e.ToString());
            return code;
        }
        try
        {
            var parsed = Build().Parse(args);
            // A command line that does not parse is one line too (no usage dump); plastic alone still shows the help.
            if (args.Length > 0 && parsed.Errors.Count > 0)
            {
                string help = parsed.CommandResult.Command is RootCommand ? "plastic --help" : $"plastic {parsed.CommandResult.Command.Name} --help";
                return Fail(2, $"{Readable(parsed.Errors[0].Message)} ({help} lists what it takes)", null);
            }
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (ArgumentException e)
        {
            return Fail(2, e.Message, e);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or TimeoutException)
        {
            // A file that is not what it should be (truncated, damaged, missing, not readable), or a cluster
            // seed that is not there: its message names it.
            return Fail(2, e.Message, e);
        }
        catch (Plastic.Sim.Actors.SimulationException e)
        {
            // A run that stopped (a node failed, a worker was lost): what happened, where, and at which step.
            return Fail(1, $"the run stopped: {e.Message}", e);
        }
        catch (IOException e)
        {
            // The machine's part: a full disk, a file another process holds.
            return Fail(1, e.Message, e);
        }
        catch (Exception e)
        {
            // Not the user's doing: a defect of Plastic's, still one line, with what a report needs.
            return Fail(1, $"internal error ({e.GetType().Name}): {e.Message}{(verbose ? "" : $" (add {VerboseFlag} for the stack trace, and please report it)")}", e);
        }
    }

    /// <summary>The parser's message with its .NET type names said as a person would.</summary>
    private static string Readable(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"as expected type '([^']+)'", m => m.Groups[1].Value switch
        {
            var t when t.Contains("UInt", StringComparison.Ordinal) => "as a whole number, 0 or more",
            var t when t.Contains("Int", StringComparison.Ordinal) => "as a whole number",
            var t when t.Contains("Single", StringComparison.Ordinal) || t.Contains("Double", StringComparison.Ordinal) => "as a number",
            var t when t.Contains("Boolean", StringComparison.Ordinal) => "as true or false",
            _ => "as the kind of value the option takes",
        });

    public static RootCommand Build()
    {
        var root = new RootCommand("Plastic: an event-driven simulator for local self-supervised learning (CLAPP, CLAPP++, Forward-Forward) and its backprop baselines.");
        root.Options.Add(new Option<bool>(VerboseFlag) { Description = "With an error, print its stack trace after its one line.", Recursive = true });
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
