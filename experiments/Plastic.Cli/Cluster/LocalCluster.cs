using System.Diagnostics;
using System.Globalization;
using Plastic.Sim.Distributed;

namespace Plastic.Cli.Cluster;

/// <summary>
/// `plastic run ... --local-cluster N`: N `plastic node` worker processes on 127.0.0.1, started by the
/// driver, which is the seed. Each worker exits with the driver (--exit-with), and the driver kills any
/// that are left when it is done, so no process outlives the run.
/// </summary>
internal sealed class LocalCluster : IDisposable
{
    private readonly List<(string Role, Process Process)> _workers = [];
    private readonly string _seed;
    private readonly long _frameBytes;

    private LocalCluster(string seed, long frameBytes) => (_seed, _frameBytes) = (seed, frameBytes);

    public IReadOnlyList<(string Role, Process Process)> Workers => _workers;

    public static LocalCluster Start(int workers, string seed, long frameBytes)
    {
        var cluster = new LocalCluster(seed, frameBytes);
        try
        {
            for (int i = 1; i <= workers; i++) cluster.StartWorker(Placement.WorkerRole(i));
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>A new worker process for a lost one's role; the old process is killed if it still runs (hung, or cut off).</summary>
    public void Replace(string role)
    {
        foreach (var (_, process) in _workers.Where(w => w.Role == role).ToList())
        {
            End(process);
            _workers.RemoveAll(w => w.Process == process);
        }
        StartWorker(role);
    }

    private void StartWorker(string role)
    {
        var start = SelfStart("node", "--role", role, "--seed", _seed, "--host", "127.0.0.1", "--port", "0",
            "--frame-bytes", _frameBytes.ToString(CultureInfo.InvariantCulture), "--exit-with", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--quiet");
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start the worker process for {role}.");
        // Its lines go to this console, prefixed, so a worker's error is seen where the run is watched.
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.WriteLine($"  [{role}] {e.Data}"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine($"  [{role}] {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _workers.Add((role, process));
        Console.WriteLine($"local cluster: started {role} (pid {process.Id})");
    }

    /// <summary>
    /// This tool again, with other arguments: the plastic apphost when that is what runs, else `dotnet plastic.dll`
    /// (under `dotnet plastic.dll`, or when the CLI runs inside another host such as a test runner).
    /// </summary>
    private static ProcessStartInfo SelfStart(params string[] args)
    {
        string? self = Environment.ProcessPath;
        bool apphost = self is not null && Path.GetFileNameWithoutExtension(self) == "plastic";
        string host = apphost ? self! : self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (!apphost) start.ArgumentList.Add(typeof(LocalCluster).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    public void Dispose()
    {
        // A worker would leave by itself once the driver process exits (--exit-with); the driver is still
        // alive here and its run is over, so it ends them now and reaps them.
        foreach (var (_, process) in _workers) End(process);
        _workers.Clear();
    }

    private static void End(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        process.Dispose();
    }
}
