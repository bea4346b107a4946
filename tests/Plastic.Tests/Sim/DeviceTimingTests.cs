using System.Diagnostics;
using System.Reflection;
using Plastic.Compute;
using Plastic.Sim.Tracing;

namespace Plastic.Tests.Sim;

/// <summary>
/// PLASTIC_SYNC_PHASES: a phase that waits for its device ends its span only after the wait, so the span
/// (and the node's busy time) holds the device work the phase queued.
/// </summary>
public sealed class DeviceTimingTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("0", false)]
    [InlineData(" 1 ", true)]
    public void The_setting_reads_unset_zero_and_one(string? value, bool expected) => Assert.Equal(expected, DeviceTiming.Parse(value));

    [Fact]
    public void Another_value_is_refused_with_the_variable_and_the_value_named()
    {
        var e = Assert.Throws<ArgumentException>(() => DeviceTiming.Parse("yes"));
        Assert.Contains("PLASTIC_SYNC_PHASES", e.Message);
        Assert.Contains("'yes'", e.Message);
    }

    [Fact]
    public void A_waiting_phase_ends_its_span_after_the_device_wait_and_a_plain_one_does_not_wait()
    {
        const string node = "device-timing-test"; // spans of other tests running at the same time are left out
        var events = new List<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SimTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = span =>
            {
                if (span.GetTagItem(SimTelemetry.NodeTag) as string == node) lock (events) events.Add($"{span.OperationName} ended");
            },
        };
        ActivitySource.AddActivityListener(listener);
        var device = WaitRecorder.Create(events);

        using (new PhaseScope(SimTelemetry.StartPhase(node, "update", 7), device)) { }
        using (new PhaseScope(SimTelemetry.StartPhase(node, "forward", 8), null)) { }

        Assert.Equal(["device waited", "update ended", "forward ended"], events);
    }

    /// <summary>A backend that only records its Synchronize calls (any other call fails the test).</summary>
    public class WaitRecorder : DispatchProxy
    {
        private List<string> _events = [];

        public static IComputeBackend Create(List<string> events)
        {
            var backend = DispatchProxy.Create<IComputeBackend, WaitRecorder>();
            ((WaitRecorder)(object)backend)._events = events;
            return backend;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method?.Name != nameof(IComputeBackend.Synchronize)) throw new InvalidOperationException($"unexpected call {method?.Name}");
            lock (_events) _events.Add("device waited");
            return null;
        }
    }
}
