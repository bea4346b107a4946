namespace Plastic.Tests.Cli;

/// <summary>
/// A layer that crashes mid-run is recovered: every node rewinds to the latest complete checkpoint and the
/// run replays from there, ending with the uninterrupted run's weights and losses, bit for bit; the fault
/// is in the log and in results.json. Without a checkpoint, or for a divergence, the run stops as before.
/// </summary>
[Collection("Console")]
public sealed class RecoveryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"plastic-recovery-{Guid.NewGuid():N}");
    // One step at a time, so that the checkpoint a fault rewinds to is known: pipelined, the layers may be steps
    // apart when one fails, and the latest complete checkpoint then depends on timing (the weights do not).
    private static readonly string[] Common = ["run", "mlp-3", "--synthetic", "--batch", "4", "--steps", "12", "--lr", "1e-2", "--checkpoint-every", "3", "--schedule", "sequential"];

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("backprop")]
    public void A_layer_that_throws_is_rewound_to_the_checkpoint_and_the_run_ends_as_an_uninterrupted_one(string graph)
    {
        string whole = Path.Combine(_root, "whole"), faulty = Path.Combine(_root, "faulty");
        Assert.Equal(0, CliTests.Run([.. Common, "--graph", graph, "--out", whole]).code);
        var (code, output, errors) = CliTests.Run([.. Common, "--graph", graph, "--set", "faults=[\"fc2@7\"]", "--out", faulty]);
        Assert.True(code == 0, errors);
        Assert.Contains("fault: Node 'fc2' failed at step 7: injected fault (fc2@7)", output);
        Assert.Contains("every node rewinds to the checkpoint of step 5 and the run replays from step 6", output);
        var a = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(whole, "weights.npz"));
        var b = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(faulty, "weights.npz"));
        Assert.All(a.Keys, k => Assert.Equal(a[k].Values, b[k].Values));
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "metrics.csv")), File.ReadAllText(Path.Combine(faulty, "metrics.csv")));
        using var results = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(faulty, "results.json")));
        var fault = Assert.Single(results.RootElement.GetProperty("recovered_faults").EnumerateArray());
        Assert.Equal("fc2", fault.GetProperty("node").GetString());
        Assert.Equal(7, fault.GetProperty("step").GetInt64());
        Assert.Equal(6, fault.GetProperty("replayed_from_step").GetInt64());
    }

    [Fact]
    public void Without_a_checkpoint_the_fault_stops_the_run()
    {
        var (code, _, errors) = CliTests.Run("run", "mlp-3", "--synthetic", "--batch", "4", "--steps", "6", "--set", "faults=[\"fc1@2\"]", "--out", Path.Combine(_root, "none"));
        Assert.Equal(1, code);
        Assert.Contains("the run stopped: Node 'fc1' failed at step 2: injected fault (fc1@2)", errors);
    }
}
