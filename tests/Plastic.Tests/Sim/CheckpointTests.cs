using Plastic.Compute.Cpu;
using Plastic.Sim;
using Plastic.Sim.Checkpoints;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>Checkpoints and resume: a run stopped after a checkpoint and resumed ends with the same weights, bit for bit, as one that never stopped.</summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("plastic-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static NetworkSpec Net(string rule) => new("conv", new InputSpec(2, 8, 8),
    [
        new LayerSpec("c1", LayerKind.Conv, 6, LossPool: 2),
        new LayerSpec("c2", LayerKind.Conv, 8, MaxPool: 2, LossPool: 2),
        new LayerSpec("c3", LayerKind.Conv, 8, LossPool: 2),
    ], rule.StartsWith("clapp++dfb", StringComparison.Ordinal) || rule.StartsWith("clapp++both", StringComparison.Ordinal)
        ? [new EdgeSpec("c3", "c1"), new EdgeSpec("c3", "c2")] : [], rule);

    private Task<RunResult> Run(NetworkSpec spec, long steps, int every = 0, bool resume = false, string? dir = null) =>
        Simulation.RunAsync(spec, new RunOptions(steps, BatchSize: 4, Seed: 6) { Schedule = new(MaxInFlight: 3), Optimizer = new(1e-2f), Checkpoints = new(Every: every, Directory: dir ?? _dir, Resume: resume) }, () => new CpuBackend(threads: 1));

    [Theory]
    [InlineData("clapp++")]
    [InlineData("clapp++dfb")]
    [InlineData("clapp++both/softplus")]
    [InlineData("clapp")]
    [InlineData("scff")]
    public async Task Resuming_from_the_latest_checkpoint_gives_the_uninterrupted_weights(string rule)
    {
        var spec = Net(rule);
        string dir = Path.Combine(_dir, rule.Replace('/', '_'));
        var whole = await Run(spec, 12, dir: Path.Combine(dir, "unused"));
        await Run(spec, 8, every: 4, dir: dir);                 // "killed" after the checkpoint of step 7
        Assert.Equal(7, LayerCheckpoint.LatestComplete(dir));
        var resumed = await Run(spec, 12, every: 4, resume: true, dir: dir);
        foreach (var layer in spec.Layers.Select(l => l.Name))
        {
            Assert.Equal(whole.Parameters[layer].Weight.ToArray(), resumed.Parameters[layer].Weight.ToArray());
            Assert.Equal(whole.Parameters[layer].Bias.ToArray(), resumed.Parameters[layer].Bias.ToArray());
            Assert.True(double.IsNaN(resumed.Losses[layer][7]) && !double.IsNaN(resumed.Losses[layer][8]));
            Assert.Equal(whole.Losses[layer][11], resumed.Losses[layer][11]);
        }
    }

    [Fact]
    public async Task An_incomplete_checkpoint_is_skipped_for_the_one_before_it()
    {
        var spec = Net("clapp++");
        var whole = await Run(spec, 10, dir: Path.Combine(_dir, "unused"));
        await Run(spec, 8, every: 4);
        File.Delete(Path.Combine(LayerCheckpoint.FolderOf(_dir, 7), LayerCheckpoint.CompleteMarker));   // as if killed while writing step 7's
        Assert.Equal(3, LayerCheckpoint.LatestComplete(_dir));
        var resumed = await Run(spec, 10, every: 4, resume: true);
        Assert.Equal(whole.Parameters["c2"].Weight.ToArray(), resumed.Parameters["c2"].Weight.ToArray());
    }

    [Theory]
    [InlineData("bp-clapp++")]
    [InlineData("bp-infonce")]
    public async Task The_backprop_graph_resumes_to_the_uninterrupted_weights(string loss)
    {
        // The top loss trains its own matrix (B, or InfoNCE's projection): the checkpoint holds it, so the
        // losses after the resume equal the uninterrupted run's, not only the layers' weights.
        var spec = Net(loss);
        string dir = Path.Combine(_dir, loss);
        RunOptions Options(long steps, int every, bool resume, string at) =>
            new(steps, BatchSize: 4, Seed: 6, Graph: GraphKind.Backprop) { Optimizer = new(1e-2f), Checkpoints = new(Every: every, Directory: at, Resume: resume) };
        var whole = await Simulation.RunAsync(spec, Options(12, 0, false, Path.Combine(dir, "unused")), () => new CpuBackend(threads: 1));
        await Simulation.RunAsync(spec, Options(8, 4, false, dir), () => new CpuBackend(threads: 1));   // "killed" after the checkpoint of step 7
        Assert.Equal(7, LayerCheckpoint.LatestComplete(dir));
        Assert.True(File.Exists(Path.Combine(LayerCheckpoint.FolderOf(dir, 7), "loss.npz")), "the loss node's trained matrix is not in the checkpoint");
        var resumed = await Simulation.RunAsync(spec, Options(12, 4, true, dir), () => new CpuBackend(threads: 1));
        foreach (var layer in spec.Layers.Select(l => l.Name))
        {
            Assert.Equal(whole.Parameters[layer].Weight.ToArray(), resumed.Parameters[layer].Weight.ToArray());
            Assert.Equal(whole.Parameters[layer].Bias.ToArray(), resumed.Parameters[layer].Bias.ToArray());
        }
        Assert.True(double.IsNaN(resumed.Losses["loss"][7]));
        Assert.Equal(whole.Losses["loss"].Skip(8), resumed.Losses["loss"].Skip(8));
    }

    [Fact]
    public async Task Only_the_newest_complete_checkpoints_are_kept_and_a_resume_from_them_is_exact()
    {
        var spec = Net("clapp++");
        var whole = await Run(spec, 8);
        var options = new RunOptions(6, BatchSize: 4, Seed: 6) { Schedule = new(MaxInFlight: 3), Optimizer = new(1e-2f), Checkpoints = new(Every: 1, Directory: _dir) { Keep = 2 } };
        await Simulation.RunAsync(spec, options, () => new CpuBackend(threads: 1));
        Assert.Equal(["step-00000004", "step-00000005"], Directory.GetDirectories(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var resumed = await Simulation.RunAsync(spec, options with { Steps = 8, Checkpoints = options.Checkpoints with { Resume = true } }, () => new CpuBackend(threads: 1));
        Assert.All(whole.Parameters, kv => Assert.Equal(kv.Value.Weight.ToArray(), resumed.Parameters[kv.Key].Weight.ToArray()));
        Assert.Equal(["step-00000006", "step-00000007"], Directory.GetDirectories(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
