using Plastic.Compute;

namespace Plastic.Sim.Tracing;

/// <summary>
/// PLASTIC_SYNC_PHASES=1: every phase of a step (forward, backward, update, loss) waits for its device at its
/// end, so that its span, and the busy time of its node (`plastic bench train`'s utilisation), include the
/// device work it queued. On a GPU a phase otherwise ends when its kernels are queued, and the time shows up
/// wherever the host next reads a result back. A diagnostic: the waits cost time, and on one device every
/// node's queued work is waited for, so a phase is exact only where one node works at a time (the backprop
/// graph's forward pass, `--schedule sequential`). A no-op on the CPU backend, whose operations finish
/// before they return.
/// </summary>
public static class DeviceTiming
{
    public const string Variable = "PLASTIC_SYNC_PHASES";
    private static bool? _enabled;

    /// <summary>The setting in the environment (read once per process).</summary>
    public static bool Enabled => _enabled ??= Parse(Environment.GetEnvironmentVariable(Variable));

    /// <summary>Unset, empty or 0: off; 1: on; anything else is refused with the variable named.</summary>
    public static bool Parse(string? value) => value?.Trim() switch
    {
        null or "" or "0" => false,
        "1" => true,
        var other => throw new ArgumentException($"{Variable} must be 0 or 1 (wait for the device at the end of every phase), not '{other}'."),
    };
}

/// <summary>One phase of a step at a node: its span and, with <see cref="DeviceTiming"/> on, a wait for the device at its end.</summary>
public readonly struct PhaseScope(System.Diagnostics.Activity? span, IComputeBackend? waitFor) : IDisposable
{
    public void Dispose()
    {
        try
        {
            waitFor?.Synchronize();
        }
        finally
        {
            span?.Dispose();
        }
    }
}
