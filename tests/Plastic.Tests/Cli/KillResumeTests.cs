using Plastic.Cli;
using Plastic.Sim.Checkpoints;

namespace Plastic.Tests.Cli;

/// <summary>
/// A run killed with SIGKILL in the middle (a separate `plastic` process, no chance to clean up) and
/// resumed with --resume ends with the weights of a run that was never interrupted, bit for bit.
/// </summary>
[Collection("Console")]
[Trait(TestCategories.Category, TestCategories.Slow)]
public sealed class KillResumeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-kill-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_run_killed_mid_way_and_resumed_ends_with_the_uninterrupted_weights()
    {
        string[] common = ["run", "vgg6-cifar-small", "--synthetic", "--steps", "300", "--batch", "8", "--lr", "1e-3", "--seed", "5"];
        string whole = Path.Combine(_root, "whole"), cut = Path.Combine(_root, "cut");
        Assert.Equal(0, CliTests.Run([.. common, "--out", whole]).code);

        string[] checkpointed = [.. common, "--checkpoint-every", "25", "--out", cut];
        string checkpoints = Path.Combine(cut, "checkpoints");
        using (var plastic = PlasticProcess.Start(checkpointed))
        {
            var process = plastic.Process;
            try
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
                while (!(Directory.Exists(checkpoints) && LayerCheckpoint.LatestComplete(checkpoints) is not null) && !process.HasExited && DateTime.UtcNow < deadline)
                    await Task.Delay(20);
                Assert.False(process.HasExited, "the run ended before a checkpoint was seen: nothing was killed");
            }
            finally
            {
                // SIGKILL on Linux; also when an assertion failed, so that no process is left behind.
                await plastic.StopAsync();
            }
        }
        long? latest = LayerCheckpoint.LatestComplete(checkpoints);
        Assert.NotNull(latest);
        Assert.True(latest < 299, $"latest complete checkpoint {latest}");
        Assert.False(File.Exists(Path.Combine(cut, "weights.npz")), "the killed run must not have finished");

        var resumed = CliTests.Run([.. checkpointed, "--resume"]);
        Assert.True(resumed.code == 0, resumed.errors);
        Assert.Contains($"resuming at step {latest + 1}", resumed.output);
        var a = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(whole, "weights.npz"));
        var b = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(cut, "weights.npz"));
        Assert.Equal(12, a.Count);
        Assert.All(a.Keys, k => Assert.Equal(a[k].Values, b[k].Values));
        // The killed attempt's losses up to its checkpoint are kept, the rest run again: the whole run's metrics, row for row.
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "metrics.csv")), File.ReadAllText(Path.Combine(cut, "metrics.csv")));
    }
}
