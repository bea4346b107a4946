using System.Diagnostics;

namespace Plastic.Experiments;

/// <summary>Where results came from: the commit of the working tree the engine runs in.</summary>
public static class Provenance
{
    /// <summary>The commit of the working tree, for provenance; "unknown" outside a git checkout.</summary>
    public static string GitCommit()
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
