using System.Globalization;
using Akka.Configuration;
using Plastic.Sim.Distributed.Lanes;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Distributed;

/// <summary>
/// How a process joins a run's cluster: its address (port 0: any free port), the seed it joins through
/// (null: it is the seed, and forms the cluster by joining itself), its role, and the remote frame limit. Failure detection is tightened from Akka's defaults (heartbeats every second, a node is
/// unreachable after 3 s of silence) so that a run whose worker dies stops within seconds, not minutes.
/// </summary>
public sealed record ClusterSettings(string Host, int Port, string? Seed, string Role, long FrameBytes)
{
    /// <summary>
    /// Akka's log level: WARNING (a driver shows which member became unreachable); a worker started by a
    /// driver uses ERROR, because its warnings are the transport's, about sockets closing at shutdown.
    /// </summary>
    public string LogLevel { get; init; } = "WARNING";

    /// <summary>
    /// Akka's default frame limit (128,000 bytes) is below one activation message of a small VGG. A worker
    /// started by hand takes 64 MiB unless told (activations of the full-width VGG-6 at batch 32 are 34 MB);
    /// a driver sizes its own from the spec and refuses workers whose limit is smaller.
    /// </summary>
    public const long DefaultFrameBytes = 64L << 20;

    /// <summary>
    /// Environment variable that turns tensor lanes off ("off"), on over TCP only ("tcp"), or on with shared
    /// memory between processes of one host ("on", the default): see <see cref="TensorLanes"/>.
    /// </summary>
    public const string LanesVariable = "PLASTIC_LANES";

    /// <summary>Whether large tensors to other processes go on tensor lanes; by default, what $PLASTIC_LANES says (on when unset).</summary>
    public bool Lanes { get; init; } = LanesFromEnvironment();

    /// <summary>The port this process serves its tensor lanes on (0: any free port); a firewall between hosts needs it fixed.</summary>
    public int LanePort { get; init; }

    /// <summary>Tensors of fewer bytes travel inside the message even with lanes on (tests set 0 to send every tensor on a lane).</summary>
    public long LaneSmallestBytes { get; init; } = TensorLanes.DefaultSmallestBytes;

    /// <summary>
    /// Bytes of shared memory this process places tensors in for receivers on its host (0: lanes over TCP only);
    /// by default, what $PLASTIC_LANES says.
    /// </summary>
    public long LaneSharedBytes { get; init; } = LaneSharedBytesFrom(Environment.GetEnvironmentVariable(LanesVariable));

    public static bool LanesFromEnvironment() => LanesFrom(Environment.GetEnvironmentVariable(LanesVariable));

    /// <summary>What a value of $PLASTIC_LANES means: unset, empty, "on" or "tcp": lanes; "off": none; anything else is refused.</summary>
    public static bool LanesFrom(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "on" or "tcp" => true,
        "off" => false,
        _ => throw new ArgumentException($"{LanesVariable}='{value}' must be on, tcp or off."),
    };

    /// <summary>The shared memory a value of $PLASTIC_LANES gives lanes: none for "tcp" and "off".</summary>
    public static long LaneSharedBytesFrom(string? value) => LanesFrom(value) && value?.ToLowerInvariant() != "tcp" ? TensorLanes.DefaultSharedBytes : 0;

    /// <summary>The name every process of a run's cluster gives its actor system (members must share it).</summary>
    public const string SystemName = "plastic";

    /// <summary>The seed as an Akka address, from "host:port".</summary>
    public static string SeedAddress(string hostAndPort)
    {
        int colon = hostAndPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostAndPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw new ArgumentException($"Seed '{hostAndPort}': expected host:port, e.g. 127.0.0.1:4053.");
        return $"akka.tcp://{SystemName}@{hostAndPort[..colon]}:{port}";
    }

    public Config ToConfig()
    {
        Placement.CheckRoleName(Role, "Cluster settings");
        if (LanePort is < 0 or > 65535) throw new ArgumentException($"Lane port {LanePort}: give a port from 1 to 65535, or 0 for any free port.");
        // Akka.Remote refuses limits below 32,000 bytes.
        long frame = Math.Max(FrameBytes, 32_000);
        // Socket buffers of up to 4 MiB: a frame larger than them streams through; larger buffers buy nothing on one host.
        long buffers = Math.Min(frame, 4L << 20);
        string hocon = $$"""
            akka {
              loglevel = {{LogLevel}}
              # The fallback console logger, used at start-up and after shutdown (the transport's last
              # warnings about closing sockets): errors only.
              stdout-loglevel = ERROR
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              loggers = ["{{typeof(ClusterLogger).FullName}}, {{typeof(ClusterLogger).Assembly.GetName().Name}}"]
              actor.provider = cluster
              remote {
                log-remote-lifecycle-events = off
                dot-netty.tcp {
                  hostname = "{{Host}}"
                  port = {{Port}}
                  maximum-frame-size = {{frame}}b
                  send-buffer-size = {{buffers}}b
                  receive-buffer-size = {{buffers}}b
                }
              }
              cluster {
                seed-nodes = [{{(Seed is null ? "" : $"\"{SeedAddress(Seed)}\"")}}]
                roles = ["{{Role}}"]
                failure-detector {
                  heartbeat-interval = 1s
                  acceptable-heartbeat-pause = 3s
                }
                log-info = off
                # A run fails on an unreachable worker itself; nobody waits for a downing decision.
                downing-provider-class = ""
                run-coordinated-shutdown-when-down = off
              }
              coordinated-shutdown.run-by-clr-shutdown-hook = off
              # The scheduler's wheel turns every 50 ms instead of 10: each turn woke a timer thread and a
              # thread-pool thread in every process, a quarter of a two-worker run's context switches, and
              # nothing a run schedules (heartbeats every second, timeouts of seconds) needs finer than 50 ms.
              scheduler.tick-duration = 50ms
            }
            {{TensorLanes.EnabledKey}} = {{(Lanes ? "on" : "off")}}
            {{TensorLanes.SmallestKey}} = {{Math.Max(0, LaneSmallestBytes)}}b
            {{TensorLanes.PortKey}} = {{LanePort}}
            {{TensorLanes.SharedBytesKey}} = {{Math.Max(0, LaneSharedBytes)}}b
            """;
        return ConfigurationFactory.ParseString(hocon + "\n" + SimMessageSerializer.Config + "\n" + ControlSerializer.Config);
    }
}
