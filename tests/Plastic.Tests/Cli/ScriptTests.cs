using System.Diagnostics;
using Plastic.Tests.Support;

namespace Plastic.Tests.Cli;

/// <summary>
/// The experiment scripts (experiments/scripts/*.cs, .NET file-based programs over the engine) build and
/// run on a tiny budget (--smoke) on small CIFAR-format files the test writes, so they cannot rot.
/// </summary>
[Trait(TestCategories.Category, TestCategories.Slow)]
public sealed class ScriptTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"plastic-scripts-{Guid.NewGuid():N}");

    public ScriptTests() => TestData.FakeCifar10(_root, 64, 32, seed: 6);

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private (int Exit, string Output) Script(string name, params string[] args)
    {
        string repo = PythonPeer.RepositoryRoot();
        var start = new ProcessStartInfo(Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repo,
        };
        foreach (var a in new[] { "run", "-c", "Release", Path.Combine("experiments", "scripts", name), "--" }.Concat(args)) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10))) { process.Kill(entireProcessTree: true); return (-1, "timed out\n" + output.Result + errors.Result); }
        return (process.ExitCode, output.Result + errors.Result);
    }

    [Fact]
    public void The_pooling_ablation_compares_the_loss_pool_with_gap()
    {
        var (exit, output) = Script("pooling-ablation.cs", "--smoke", "--data", _root, "--out", Path.Combine(_root, "pool"));
        Assert.True(exit == 0, output);
        Assert.Contains("| CLAPP++ (k x k loss pool) | `clapp++` | yes | yes |", output);
        Assert.Contains("| CLAPP++ (GAP) | `clapp++/gap` | yes | no |", output);
        Assert.True(File.Exists(Path.Combine(_root, "pool", "compare.md")));
    }

    [Fact]
    public void The_alignment_study_measures_lateral_dfb_and_both()
    {
        var (exit, output) = Script("dfb-alignment.cs", "--smoke", "--out", Path.Combine(_root, "dfb"));
        Assert.True(exit == 0, output);
        Assert.Matches(@"direct feedback \(CLAPP\+\+DFB\)\s+block1 -?[0-9.]+ .* block6 1\.000", output);
    }

    [Fact]
    public void A_rule_defined_in_a_script_runs_through_the_engine()
    {
        var (exit, output) = Script("custom-rule.cs", "--smoke", "--data", _root, "--out", Path.Combine(_root, "custom"));
        Assert.True(exit == 0, output);
        Assert.Contains("| frozen below block4 | `frozen-below-block4` |", output);
        // The script's frozen rule reports no loss: only block4..block6 have losses in the run's metrics.
        var nodes = File.ReadAllLines(Path.Combine(_root, "custom", "frozen-below-block4", "metrics.csv")).Skip(1).Select(l => l.Split(',')[1]).ToHashSet();
        Assert.Equal(["block4", "block5", "block6"], nodes.Order());
        var everywhere = File.ReadAllLines(Path.Combine(_root, "custom", "clapp++-everywhere", "metrics.csv")).Skip(1).Select(l => l.Split(',')[1]).ToHashSet();
        Assert.Equal(6, everywhere.Count);
    }
}
