using System.CommandLine;
using Plastic.Compute;

namespace Plastic.Cli;

/// <summary>`plastic devices`: the backends this machine has, and the one auto picks.</summary>
public static class DevicesCommand
{
    public static Command Build()
    {
        var command = new Command("devices", "List the compute backends and devices found, and which one --device auto picks.");
        command.SetAction(_ =>
        {
            var devices = BackendCatalog.Discover();
            Console.WriteLine($"{"name",-10} {"kind",-4} description");
            foreach (var d in devices)
                Console.WriteLine($"{d.Name,-10} {(d.IsGpu ? "gpu" : "cpu"),-4} {d.Description}");
            Console.WriteLine();
            Console.WriteLine($"auto picks: {BackendCatalog.AutoChoice(devices)}");
            string? env = Environment.GetEnvironmentVariable(BackendCatalog.DeviceVariable);
            if (!string.IsNullOrWhiteSpace(env))
                Console.WriteLine($"{BackendCatalog.DeviceVariable}={env} overrides auto when --device is not given.");
            return 0;
        });
        return command;
    }
}
