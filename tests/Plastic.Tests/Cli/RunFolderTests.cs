using Plastic.Experiments.Runs;

namespace Plastic.Tests.Cli;

/// <summary>
/// A run folder is never mixed or lost: a folder holding a run is refused unless resumed or overwritten,
/// a resume must match the run's config (the keys that differ are named) and have a checkpoint of that run,
/// a finished run is left alone, and a refused command changes nothing in the folder.
/// </summary>
[Collection("Console")]
public sealed class RunFolderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"plastic-folder-{Guid.NewGuid():N}");
    private static readonly string[] Common = ["run", "mlp-3", "--synthetic", "--batch", "4", "--steps", "6", "--checkpoint-every", "3"];

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private string Folder(string name) => Path.Combine(_root, name);

    private static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    private static void AssertUnchanged(Dictionary<string, byte[]> before, string folder)
    {
        var after = Snapshot(folder);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
    }

    [Fact]
    public void A_second_run_into_a_folder_holding_a_run_is_refused_and_changes_nothing()
    {
        string f = Folder("a");
        Assert.Equal(0, CliTests.Run([.. Common, "--seed", "2", "--out", f]).code);
        var before = Snapshot(f);
        var second = CliTests.Run([.. Common, "--seed", "7", "--out", f]);
        Assert.Equal(2, second.code);
        Assert.Contains("holds a run already; continue it with --resume, replace it with --overwrite", second.errors);
        AssertUnchanged(before, f);
        var rejected = CliTests.Run([.. Common, "--rule", "clapp++/softplus/linear", "--out", f, "--overwrite"]);
        Assert.Equal(2, rejected.code); // refused before the folder is touched, --overwrite or not
        Assert.Contains("both set the score function f", rejected.errors);
        AssertUnchanged(before, f);
    }

    [Fact]
    public void Overwrite_replaces_the_run_and_resume_of_a_finished_run_leaves_it_alone()
    {
        string f = Folder("b");
        Assert.Equal(0, CliTests.Run([.. Common, "--seed", "2", "--out", f]).code);
        var overwritten = CliTests.Run([.. Common, "--seed", "7", "--out", f, "--overwrite"]);
        Assert.True(overwritten.code == 0, overwritten.errors);
        Assert.Contains("\"seed\": 7", File.ReadAllText(Path.Combine(f, "config.resolved.json")));
        Assert.Single(Directory.GetDirectories(Path.Combine(f, "checkpoints")), d => d.EndsWith("step-00000005", StringComparison.Ordinal));
        var before = Snapshot(f);
        var finished = CliTests.Run([.. Common, "--seed", "7", "--out", f, "--resume"]);
        Assert.Equal(0, finished.code);
        Assert.Contains("is finished", finished.output);
        AssertUnchanged(before, f);
    }

    [Fact]
    public void Resume_refuses_another_config_naming_the_keys_and_a_folder_without_a_checkpoint_of_its_run()
    {
        string f = Folder("c");
        Assert.Equal(0, CliTests.Run([.. Common, "--seed", "2", "--out", f]).code);
        File.Delete(Path.Combine(f, "results.json")); // as if cut short
        var before = Snapshot(f);
        var changed = CliTests.Run([.. Common, "--seed", "7", "--lr", "1e-3", "--out", f, "--resume"]);
        Assert.Equal(2, changed.code);
        Assert.Contains("these keys differ: learning_rate, run.optimizer.learningRate, run.seed, seed", changed.errors);
        AssertUnchanged(before, f);
        // Checkpoints of another run (another tag) are never taken.
        foreach (var marker in Directory.GetFiles(Path.Combine(f, "checkpoints"), "complete", SearchOption.AllDirectories))
            File.WriteAllText(marker, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(marker), "\"run\":\\s*\"", "${0}0"));
        before = Snapshot(f);
        var foreign = CliTests.Run([.. Common, "--seed", "2", "--out", f, "--resume"]);
        Assert.Equal(2, foreign.code);
        Assert.Contains("holds no complete checkpoint of this run", foreign.errors);
        AssertUnchanged(before, f);
    }

    [Fact]
    public void A_folder_locked_by_a_live_process_is_refused_and_a_stale_lock_is_taken_over()
    {
        string f = Folder("d");
        Directory.CreateDirectory(f);
        File.WriteAllText(Path.Combine(f, RunFolder.LockFile), $"{Environment.ProcessId} {Environment.MachineName}\n");
        var locked = CliTests.Run([.. Common, "--out", f]);
        Assert.Equal(2, locked.code);
        Assert.Contains($"another run (process {Environment.ProcessId}) is using this folder", locked.errors);
        File.WriteAllText(Path.Combine(f, RunFolder.LockFile), $"{int.MaxValue - 7} {Environment.MachineName}\n"); // no such process
        var taken = CliTests.Run([.. Common, "--out", f]);
        Assert.True(taken.code == 0, taken.errors);
        Assert.False(File.Exists(Path.Combine(f, RunFolder.LockFile))); // released at the end
    }

    [Fact]
    public void A_damaged_checkpoint_is_passed_over_with_a_warning_and_all_damaged_is_one_line()
    {
        string f = Folder("e"), whole = Folder("e-whole");
        string[] nine = ["run", "mlp-3", "--synthetic", "--batch", "4", "--steps", "9", "--checkpoint-every", "3"];
        Assert.Equal(0, CliTests.Run([.. nine, "--out", whole]).code);
        Assert.Equal(0, CliTests.Run([.. nine, "--out", f]).code);
        File.Delete(Path.Combine(f, "results.json"));
        string newest = Path.Combine(f, "checkpoints", "step-00000008", "fc2.npz");
        File.WriteAllBytes(newest, File.ReadAllBytes(newest)[..100]); // cut short, as by a full disk
        var resumed = CliTests.Run([.. nine, "--out", f, "--resume"]);
        Assert.True(resumed.code == 0, resumed.errors);
        Assert.Contains("warning: the checkpoint of step 8 is damaged (", resumed.output);
        Assert.Contains("fc2.npz", resumed.output);
        Assert.Contains("resuming at step 6", resumed.output);
        var a = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(whole, "weights.npz"));
        var b = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(f, "weights.npz"));
        Assert.All(a.Keys, k => Assert.Equal(a[k].Values, b[k].Values));

        File.Delete(Path.Combine(f, "results.json"));
        foreach (var file in Directory.GetFiles(Path.Combine(f, "checkpoints"), "fc1.npz", SearchOption.AllDirectories)) File.WriteAllText(file, "not a zip");
        var before = Snapshot(f);
        var none = CliTests.Run([.. nine, "--out", f, "--resume"]);
        Assert.Equal(2, none.code);
        Assert.Matches(@"^plastic: Resume: every complete checkpoint in .* is damaged \(step \d+: .*fc1\.npz: .*\); nothing to continue from\.\n$", none.errors);
        AssertUnchanged(before, f);
    }

    [Fact]
    public void A_diverged_run_records_why_in_results_json_keeps_its_checkpoint_and_is_not_resumed()
    {
        string f = Folder("diverged");
        // One step at a time: step 0's checkpoint is complete before step 1 runs (pipelined, the layers may be
        // steps apart when one diverges, and no checkpoint may be complete yet).
        string[] diverging = ["run", "mlp-3", "--synthetic", "--batch", "4", "--steps", "40", "--checkpoint-every", "1", "--schedule", "sequential", "--lr", "1e15", "--out", f];
        var run = CliTests.Run(diverging);
        Assert.Equal(1, run.code);
        Assert.Matches(@"^plastic: the run stopped: Node '\w+' failed at step \d+: diverged: ", run.errors);
        using (var results = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(f, "results.json"))))
        {
            var root = results.RootElement;
            Assert.Equal("diverged", root.GetProperty("status").GetString());
            long step = root.GetProperty("step").GetInt64();
            Assert.Contains("diverged: ", root.GetProperty("error").GetString());
            // The checkpoints before the step that diverged hold finite weights: the last of them is kept.
            long checkpoint = root.GetProperty("last_complete_checkpoint").GetInt64();
            Assert.InRange(checkpoint, 0, step - 1);
            var weights = Plastic.Datasets.Numpy.Npy.ReadNpz(Path.Combine(f, "checkpoints", $"step-{checkpoint:D8}", "fc1.npz"));
            Assert.All(weights.Values, a => Assert.All(a.Values, v => Assert.True(float.IsFinite(v))));
        }
        var before = Snapshot(f);
        var resume = CliTests.Run([.. diverging, "--resume"]);
        Assert.Equal(2, resume.code);
        Assert.Contains("diverged", resume.errors);
        Assert.Contains("would diverge again", resume.errors);
        AssertUnchanged(before, f);
    }

    [Fact]
    public void A_run_stopped_by_a_fault_records_it_and_stays_resumable_and_a_recovered_one_is_finished()
    {
        string f = Folder("stopped");
        string[] faulty = [.. Common, "--set", "faults=[\"fc2@1\"]", "--out", f];
        var stopped = CliTests.Run(faulty);    // the fault comes before the first checkpoint: nothing to rewind to
        Assert.True(stopped.code == 1, stopped.output + stopped.errors);
        using (var results = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(f, "results.json"))))
            Assert.Equal("stopped", results.RootElement.GetProperty("status").GetString());
        // "stopped" is not "finished": --resume goes on to look for a checkpoint (there is none yet).
        Assert.Contains("holds no complete checkpoint", CliTests.Run([.. faulty, "--resume"]).errors);
        string g = Folder("stopped-later");
        string[] later = [.. Common, "--schedule", "sequential", "--set", "faults=[\"fc2@4\"]", "--out", g];
        var recoveredRun = CliTests.Run(later);     // recovered from the checkpoint of step 2
        Assert.True(recoveredRun.code == 0, recoveredRun.output + recoveredRun.errors);
        using var recovered = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(g, "results.json")));
        Assert.Equal("finished", recovered.RootElement.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData(6)]   // nothing left to run: the layer must not hand over its initial weights as the run's
    [InlineData(9)]
    public void A_checkpoint_of_another_layer_stops_the_resume_with_one_line_naming_node_and_file(int steps)
    {
        string f = Folder($"swapped-{steps}");
        string[] run = ["run", "mlp-3", "--synthetic", "--batch", "4", "--steps", $"{steps}", "--checkpoint-every", "3", "--out", f];
        Assert.Equal(0, CliTests.Run(run).code);
        File.Delete(Path.Combine(f, "results.json"));
        if (Directory.Exists(Path.Combine(f, "checkpoints", "step-00000008"))) Directory.Delete(Path.Combine(f, "checkpoints", "step-00000008"), recursive: true);
        string step5 = Path.Combine(f, "checkpoints", "step-00000005");
        File.Copy(Path.Combine(step5, "fc1.npz"), Path.Combine(step5, "fc2.npz"), overwrite: true);   // reads as an .npz, but of fc1's shapes
        var weights = File.ReadAllBytes(Path.Combine(f, "weights.npz"));
        var resumed = CliTests.Run([.. run, "--resume"]);
        Assert.Equal(2, resumed.code);
        Assert.Matches($@"^plastic: Node 'fc2' .*could not start: {System.Text.RegularExpressions.Regex.Escape(Path.Combine(step5, "fc2.npz"))}: p0 holds 200704 values, the layer's tensor 65536 .*\n$", resumed.errors);
        Assert.Equal(weights, File.ReadAllBytes(Path.Combine(f, "weights.npz")));   // not rewritten from a layer that never loaded its checkpoint
    }
}
