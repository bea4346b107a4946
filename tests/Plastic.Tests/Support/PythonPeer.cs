using System.Diagnostics;

namespace Plastic.Tests.Support;

/// <summary>
/// The optional Python peers (NumPy, PyTorch): python3 on the PATH, or $PLASTIC_PYTHON when the first
/// python3 lacks them. Tests that need one skip where it is missing.
/// </summary>
public static class PythonPeer
{
    /// <summary>Runs python with the arguments; exit code -1 when there is no interpreter.</summary>
    public static (int Exit, string Output) Run(params string[] args)
    {
        try
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("PLASTIC_PYTHON") ?? "python3") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            process.WaitForExit(300_000);
            return (process.ExitCode, output.Result);
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
