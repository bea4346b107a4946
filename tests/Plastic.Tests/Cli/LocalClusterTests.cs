using System.Diagnostics;

namespace Plastic.Tests.Cli;

/// <summary>
/// `plastic run --local-cluster 2`: worker processes on 127.0.0.1. The weights equal the one-process
/// run's bit for bit and the trace marks the edges between processes. A worker killed with SIGKILL is
/// replaced when the run has checkpoints (the run ends with the uninterrupted weights); without, it stops
/// the run with an error naming it, its layers and the last completed step, and no process is left.
/// </summary>
[Collection("Console")]
[Trait(TestCategories.Category, TestCategories.Slow)]
public sealed class LocalClusterTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-cluster-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_run_over_two_worker_processes_learns_the_one_process_weights_and_traces_the_crossings()
    {
        string[] common = ["run", "vgg6-cifar-small", "--synthetic", "--steps", "12", "--batch", "4", "--lr", "1e-3", "--seed", "3"];
        string alone = Path.Combine(_root, "alone"), spread = Path.Combine(_root, "spread");
        Assert.Equal(0, CliTests.Run([.. common, "--out", alone]).code);
        var run = CliTests.Run([.. common, "--local-cluster", "2", "--out", spread]);
        Assert.True(run.code == 0, run.errors + run.output);
        Assert.Contains("placement worker1=block1,block2,block3; worker2=block4,block5,block6", run.output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(alone, "weights.safetensors")), File.ReadAllBytes(Path.Combine(spread, "weights.safetensors")));
        Assert.True(File.Exists(Path.Combine(spread, "traces.worker1.jsonl")) && File.Exists(Path.Combine(spread, "traces.worker2.jsonl")));

        var trace = CliTests.Run(["trace", spread]);
        Assert.Equal(0, trace.code);
        var lines = trace.output.Split('\n');
        // Every message is counted once, whichever process handled it: 12 steps on every edge.
        Assert.Contains(lines, l => l.StartsWith("block3     block4     Forward                  12", StringComparison.Ordinal) && l.Contains("crosses processes: worker1 -> worker2"));
        Assert.Contains(lines, l => l.StartsWith("input      block1     Forward                  12", StringComparison.Ordinal) && l.Contains("crosses processes: driver -> worker1"));
        Assert.Contains(lines, l => l.StartsWith("block1     block2     Forward                  12", StringComparison.Ordinal) && !l.Contains("crosses"));
        if (Plastic.Sim.Distributed.Lanes.SharedSegment.Available)
        {
            // The input's batch (98 KB) is over the lanes' smallest size: each came through the workers' shared memory.
            Assert.Contains(lines, l => l.StartsWith("input      block1     Forward                  12", StringComparison.Ordinal) && l.EndsWith("driver -> worker1, through shared memory", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("tensors between processes, by the way they came: ", StringComparison.Ordinal) && l.Contains("through shared memory"));
        }
        Assert.Contains("verdict: local", trace.output);
    }

    /// <summary>Two processes, not three: the driver's process keeps the data and block1-2, one worker the rest.</summary>
    [Fact]
    public void A_run_split_between_the_drivers_process_and_one_worker_learns_the_one_process_weights()
    {
        string[] common = ["run", "vgg6-cifar-small", "--synthetic", "--steps", "12", "--batch", "4", "--lr", "1e-3", "--seed", "3"];
        string alone = Path.Combine(_root, "alone"), split = Path.Combine(_root, "split");
        Assert.Equal(0, CliTests.Run([.. common, "--out", alone]).code);
        var run = CliTests.Run([.. common, "--local-cluster", "1", "--placement", "worker1=block3,block4,block5,block6", "--out", split]);
        Assert.True(run.code == 0, run.errors + run.output);
        Assert.Contains("local cluster: started worker1", run.output);
        Assert.DoesNotContain("started worker2", run.output);
        Assert.Contains("placement worker1=block3,block4,block5,block6", run.output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(alone, "weights.safetensors")), File.ReadAllBytes(Path.Combine(split, "weights.safetensors")));
        // The worker wrote spans of its own: its layers ran there, not in the driver.
        Assert.True(File.Exists(Path.Combine(split, "traces.worker1.jsonl")));
        Assert.False(File.Exists(Path.Combine(split, "traces.worker2.jsonl")));

        var trace = CliTests.Run(["trace", split]);
        Assert.Equal(0, trace.code);
        var lines = trace.output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("block2     block3     Forward                  12", StringComparison.Ordinal) && l.Contains("crosses processes: driver -> worker1"));
        Assert.Contains(lines, l => l.StartsWith("input      block1     Forward                  12", StringComparison.Ordinal) && !l.Contains("crosses"));
        if (Plastic.Sim.Distributed.Lanes.SharedSegment.Available)
        {
            // How a tensor came is read from the receiver's spans, not from the placement.
            Assert.Contains(lines, l => l.StartsWith("block2     block3     Forward                  12", StringComparison.Ordinal) && l.EndsWith("driver -> worker1, through shared memory", StringComparison.Ordinal));
        }
        Assert.Contains("verdict: local", trace.output);
    }

    [Fact]
    public async Task A_worker_killed_mid_run_stops_the_run_with_its_layers_and_the_last_step_and_leaves_no_process()
    {
        using var plastic = PlasticProcess.Start("run", "vgg6-cifar-small", "--synthetic", "--steps", "600", "--batch", "4", "--local-cluster", "2", "--out", Path.Combine(_root, "killed"));
        var driver = plastic.Process;
        var workers = new Dictionary<string, int>();
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            // The first progress line (10 % of the run) says the workers are computing.
            while (!plastic.Output.Contains("step 60/600") && !driver.HasExited && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.False(driver.HasExited, $"the run ended before a worker could be killed: {plastic.Output}{plastic.Errors}");
            foreach (var role in new[] { "worker1", "worker2" })
            {
                var m = System.Text.RegularExpressions.Regex.Match(plastic.Output, $@"started {role} \(pid (\d+)\)");
                Assert.True(m.Success, $"no pid for {role} in: {plastic.Output}");
                workers[role] = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            var clock = Stopwatch.StartNew();
            using (var victim = Process.GetProcessById(workers["worker2"])) victim.Kill(); // SIGKILL: no goodbye
            bool exited = driver.WaitForExit(TimeSpan.FromSeconds(40));
            Assert.True(exited, "the driver did not stop within 40 s of the kill");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the run took {clock.Elapsed.TotalSeconds:F1} s to stop");
        }
        finally
        {
            await plastic.StopAsync();
            foreach (var pid in workers.Values) KillIfAlive(pid);
        }
        Assert.Equal(1, driver.ExitCode);
        Assert.Matches(@"the run stopped: Worker 'worker2' \(akka\.tcp://plastic@127\.0\.0\.1:\d+\) hosting block4, block5, block6 became unreachable .*; the last step every node completed is \d+\.", plastic.Errors);
        // No worker outlives the run: the driver ends them.
        foreach (var (role, pid) in workers) Assert.False(IsAlive(pid), $"{role} (pid {pid}) is still running");
    }

    [Fact]
    public async Task A_worker_killed_mid_run_with_checkpoints_is_replaced_and_the_run_ends_with_the_uninterrupted_weights()
    {
        string[] common = ["run", "vgg6-cifar-small", "--synthetic", "--steps", "300", "--batch", "4", "--seed", "5"];
        string whole = Path.Combine(_root, "whole"), recovered = Path.Combine(_root, "recovered");
        Assert.Equal(0, CliTests.Run([.. common, "--out", whole]).code);
        using var plastic = PlasticProcess.Start([.. common, "--checkpoint-every", "25", "--local-cluster", "2", "--out", recovered]);
        var driver = plastic.Process;
        int victimPid = 0;
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            // Killed after the checkpoints of steps 24, 49 and 74 (the progress line of step 90 is past them).
            while (!plastic.Output.Contains("step 90/300") && !driver.HasExited && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.False(driver.HasExited, $"the run ended before a worker could be killed: {plastic.Output}{plastic.Errors}");
            var m = System.Text.RegularExpressions.Regex.Match(plastic.Output, @"started worker2 \(pid (\d+)\)");
            Assert.True(m.Success, $"no pid for worker2 in: {plastic.Output}");
            victimPid = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            using (var victim = Process.GetProcessById(victimPid)) victim.Kill(); // SIGKILL: no goodbye
            Assert.True(driver.WaitForExit(TimeSpan.FromMinutes(4)), $"the run did not finish within 4 minutes of the kill: {plastic.Output}{plastic.Errors}");
        }
        finally
        {
            await plastic.StopAsync();
        }
        Assert.True(driver.ExitCode == 0, plastic.Output + plastic.Errors);
        Assert.False(IsAlive(victimPid));
        Assert.Matches(@"fault: Worker 'worker2' .* hosting block4, block5, block6 became unreachable .*; every node rewinds to the checkpoint of step (74|99|124) and the run replays", plastic.Output);
        var took = System.Text.RegularExpressions.Regex.Match(plastic.Output, @"recovered: a worker for 'worker2' took over its nodes ([0-9.]+) s after the loss was seen");
        Assert.True(took.Success, plastic.Output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "weights.safetensors")), File.ReadAllBytes(Path.Combine(recovered, "weights.safetensors")));
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "metrics.csv")), File.ReadAllText(Path.Combine(recovered, "metrics.csv")));
        using var results = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(recovered, "results.json")));
        var fault = Assert.Single(results.RootElement.GetProperty("recovered_faults").EnumerateArray());
        Assert.Equal("worker2", fault.GetProperty("node").GetString());
        Assert.True(fault.GetProperty("recover_seconds").GetDouble() > 0);
        Assert.Contains("\"name\":\"fault\"", File.ReadAllText(Path.Combine(recovered, "traces.jsonl")));
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void KillIfAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        catch (ArgumentException)
        {
            // Gone already.
        }
    }
}
