using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Plastic.Sim.Distributed;

namespace Plastic.Cli.Cluster;

/// <summary>
/// `plastic node --role R --seed host:port`: a cluster worker. It joins a run's cluster and hosts the
/// nodes that drivers place on its role (built from the spec and seed they send), until it is stopped
/// (Ctrl-C, SIGTERM), its parent process is gone (--exit-with) or it is removed from the cluster.
/// </summary>
public static class NodeCommand
{
    public static Command Build()
    {
        var role = new Option<string>("--role") { Description = "The role this worker serves (placements name roles: worker1=block1,block2).", Required = true };
        var seed = new Option<string>("--seed") { Description = "host:port of a cluster member to join through: another node, or this node's own --host:--port to form a new cluster.", Required = true };
        var host = new Option<string>("--host") { Description = "Address to listen on and be reached at.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port to listen on (0: any free port).", DefaultValueFactory = _ => 0 };
        var lanePort = new Option<int>("--lane-port") { Description = "Port this worker serves its tensor lanes on, the connections large tensors take between processes (0: any free port; fix it where a firewall must let it through).", DefaultValueFactory = _ => 0 };
        var frame = new Option<long>("--frame-bytes") { Description = "Largest remote message in bytes; must be at least the driver's (it tells you if not).", DefaultValueFactory = _ => ClusterSettings.DefaultFrameBytes };
        var exitWith = new Option<int?>("--exit-with") { Description = "Exit when the process with this id exits (plastic run --local-cluster passes its own)." };
        var quiet = new Option<bool>("--quiet") { Description = "Log Akka errors only (plastic run --local-cluster passes it: the workers' warnings are about sockets closing at shutdown)." };
        var command = new Command("node", "Start a cluster worker that hosts the layers drivers place on its role.") { role, seed, host, port, lanePort, frame, exitWith, quiet };
        command.SetAction(parse => Run(parse.GetValue(role)!, parse.GetValue(seed)!, parse.GetValue(host)!, parse.GetValue(port), parse.GetValue(lanePort), parse.GetValue(frame), parse.GetValue(exitWith), parse.GetValue(quiet)));
        return command;
    }

    private static int Run(string role, string seed, string host, int port, int lanePort, long frameBytes, int? exitWith, bool quiet)
    {
        Placement.CheckRoleName(role, "plastic node --role");
        ClusterSettings.SeedAddress(seed);
        if (lanePort is < 0 or > 65535) throw new ArgumentException($"--lane-port {lanePort}: give a port from 1 to 65535, or 0 for any free port.");
        var settings = new ClusterSettings(host, port, seed, role, frameBytes) { LogLevel = quiet ? "ERROR" : "WARNING", LanePort = lanePort };
        var member = ClusterMember.JoinAsync(settings, TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        var stop = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        member.StartHost(role, path => Tracing.ToFile(path));
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult("interrupted"); };
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult("terminated"); });
        Akka.Cluster.Cluster.Get(member.System).RegisterOnMemberRemoved(() => stop.TrySetResult("removed from the cluster"));
        if (exitWith is { } pid) WatchParent(pid, stop);
        string lane = Plastic.Sim.Distributed.Lanes.TensorLanes.Of(member.System).Describe();
        Console.WriteLine($"node {role} at {member.HostAndPort} (pid {Environment.ProcessId}) joined through {seed}; frame limit {Math.Max(frameBytes, 32_000).ToString("N0", CultureInfo.InvariantCulture)} bytes; {lane}");
        string why = stop.Task.GetAwaiter().GetResult();
        Console.WriteLine($"node {role}: {why}; leaving");
        member.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        return 0;
    }

    private static void WatchParent(int pid, TaskCompletionSource<string> stop)
    {
        Process parent;
        try { parent = Process.GetProcessById(pid); }
        catch (ArgumentException) { stop.TrySetResult($"process {pid} (--exit-with) is not running"); return; }
        var thread = new Thread(() =>
        {
            parent.WaitForExit();
            stop.TrySetResult($"process {pid} (--exit-with) exited");
        }) { IsBackground = true, Name = "exit-with" };
        thread.Start();
    }
}
