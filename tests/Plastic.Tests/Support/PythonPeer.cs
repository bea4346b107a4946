using System.Diagnostics;

namespace Plastic.Tests.Support;

/// <summary>
/// The optional Python peers (NumPy, PyTorch): python3 on the PATH, or $PLASTIC_PYTHON when the first
/// python3 lacks them. Tests that need one skip where it is missing.
/// </summary>
public static class PythonPeer
{
    /// <summary>Runs python with the arguments; exit code -1 when there is no interpreter.</summary>
    public static (int Exit, string Output) Run(params string[] args) => Run(TimeSpan.FromMinutes(5), args);

    /// <summary>Runs python with the arguments, killed after <paramref name="limit"/>; exit code -1 when there is no interpreter.</summary>
    public static (int Exit, string Output) Run(TimeSpan limit, params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("PLASTIC_PYTHON") ?? "python3") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(limit))
            {
                process.Kill(entireProcessTree: true);
                return (-2, $"killed after {limit.TotalMinutes:F0} minutes\n{output.Result}{errors.Result}");
            }
            return (process.ExitCode, output.Result + errors.Result);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (-1, "");
        }
    }

    public static bool Has(string module) => Run("-c", $"import {module}").Exit == 0;

    /// <summary>The repository root (where Plastic.sln is), above the test binaries.</summary>
    public static string RepositoryRoot()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Plastic.sln"))) root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no Plastic.sln above the tests");
        return root;
    }
}
