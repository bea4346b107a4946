using System.Diagnostics;
using System.Text;
using Plastic.Cli;

namespace Plastic.Tests.Cli;

/// <summary>
/// The tool as its own process (for tests that kill it or its workers): the plastic.dll built beside the
/// tests, under the dotnet running them. Its lines are kept in <see cref="Output"/> and <see cref="Errors"/>.
/// </summary>
internal sealed class PlasticProcess : IDisposable
{
    private readonly StringBuilder _output = new(), _errors = new();

    private PlasticProcess(Process process) => Process = process;

    public Process Process { get; }

    public string Output { get { lock (_output) return _output.ToString(); } }

    public string Errors { get { lock (_errors) return _errors.ToString(); } }

    public static PlasticProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>The tool with environment variables of its own (set in its process only, so tests running beside it are not affected).</summary>
    public static PlasticProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        string dll = Path.Combine(Path.GetDirectoryName(typeof(PlasticCommand).Assembly.Location)!, "plastic.dll");
        string host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        var started = new PlasticProcess(Process.Start(info)!);
        started.Process.OutputDataReceived += (_, e) => Append(started._output, e.Data);
        started.Process.ErrorDataReceived += (_, e) => Append(started._errors, e.Data);
        started.Process.BeginOutputReadLine();
        started.Process.BeginErrorReadLine();
        return started;
    }

    private static void Append(StringBuilder lines, string? line)
    {
        if (line is null) return;
        lock (lines) lines.AppendLine(line);
    }

    /// <summary>
    /// Kills it (SIGKILL, with its children) if it still runs, and reaps it; then removes the tensor-lane rings
    /// that killed processes (this one, its workers, a victim of the test) could not remove themselves.
    /// </summary>
    public async Task StopAsync()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        await Process.WaitForExitAsync();
        Plastic.Sim.Distributed.Lanes.SharedSegment.RemoveOrphans();
    }

    public void Dispose() => Process.Dispose();
}
