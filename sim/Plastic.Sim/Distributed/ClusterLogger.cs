using Akka.Event;

namespace Plastic.Sim.Distributed;

/// <summary>
/// Akka's console logger without the transport's teardown noise: when a cluster member shuts down, its
/// peers log the closed TCP association as a warning and an error with stack traces ("Disassociated",
/// "Unable to REMOVE channel"), at the end of every run, and once a member is gone, every retry to reach
/// it is logged again ("Tried to associate with unreachable remote address"). A lost worker during a run is reported by the
/// run itself (<see cref="WorkerWatchActor"/>), with its role, layers and last step, so nothing is hidden.
/// </summary>
public sealed class ClusterLogger : DefaultLogger
{
    protected override void Print(LogEvent logEvent)
    {
        if (IsTeardownNoise(logEvent)) return;
        base.Print(logEvent);
    }

    public static bool IsTeardownNoise(LogEvent e)
    {
        if (e is not (Warning or Error)) return false;
        string text = e.Message?.ToString() ?? "";
        return e.Cause?.GetType().Name == "EndpointDisassociatedException"
            || text.Contains("Disassociated", StringComparison.Ordinal)
            || text.Contains("Unable to REMOVE channel", StringComparison.Ordinal)
            || text.Contains("Tried to associate with unreachable remote address", StringComparison.Ordinal);
    }
}
