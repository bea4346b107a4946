using System.Diagnostics;

namespace Plastic.Experiments;

/// <summary>Where results came from: the commit the engine was built from.</summary>
public static class Provenance
{
    /// <summary>
    /// The commit the engine was built from (stamped into its informational version at build time); when the
    /// build had no git, the working tree's HEAD; "unknown" outside a git checkout.
    /// </summary>
    public static string GitCommit() => BuiltFrom ?? WorkingTreeHead();

    private static readonly string? BuiltFrom =
        typeof(Provenance).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+') is [_, var sha] && sha.Length == 40 ? sha : null;

    private static string WorkingTreeHead()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse HEAD") { RedirectStandardOutput = true, RedirectStandardError = true });
            string text = git!.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && text.Length == 40 ? text : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
