namespace Plastic.Tests.Cli;

/// <summary>
/// Bad input a user can give, each case a command with its files: exit 2, one line starting "plastic: "
/// that names the file, key or flag at fault, no stack trace, and nothing written under the output folder.
/// The start of issue 17's corpus; every case here was once a stack trace or a misleading message.
/// </summary>
[Collection("Console")]
public sealed class BadInputCorpusTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"plastic-bad-{Guid.NewGuid():N}");

    public BadInputCorpusTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>(name, the file to write as F, or null; the command with F and O for the file and the output folder; what the one line must say).</summary>
    public static TheoryData<string, string?, string, string> Cases => new()
    {
        { "malformed spec", """{ "network": """, "run F --out O", "F: not valid JSON (line" },
        { "empty spec", "", "run F --out O", "F: the file is empty" },
        { "array spec", "[1, 2]", "run F --out O", "F: a spec is a JSON object" },
        { "spec without network", """{ "steps": 3 }""", "run F --out O", "F: not a spec plastic run knows: a run spec names its 'network'" },
        { "duplicate key", """{ "network": "mlp-3", "network": "mlp-3", "dataset": "synthetic" }""", "run F --out O", "F: the key 'network' is given twice" },
        { "learning rate overflows", """{ "network": "mlp-3", "dataset": "synthetic", "optimizer": { "learningRate": 1e400 } }""", "run F --out O", "F: optimizer.learningRate must be a finite number above 0" },
        { "negative learning rate", """{ "network": "mlp-3", "dataset": "synthetic", "optimizer": { "learningRate": -1 } }""", "run F --out O", "optimizer.learningRate must be a finite number above 0" },
        { "checkpointKeep 0", """{ "network": "mlp-3", "dataset": "synthetic", "checkpointKeep": 0 }""", "run F --out O", "checkpointKeep is how many complete checkpoints to keep" },
        { "synthetic and a data set", null, "run mlp-3 --synthetic --dataset cifar10 --out O", "--synthetic and --dataset cifar10: give one, not both" },
        { "no data", null, "run mlp-3 --out O", "Choose the data" },
        { "unknown rule", null, "run mlp-3 --synthetic --rule clap++ --out O", "rule 'clap++' is not in the catalogue" },
        { "contradictory options", null, "run mlp-3 --synthetic --rule clapp++/softplus/linear --out O", "'softplus' and 'linear' both set the score function f" },
        { "unknown option", null, "run mlp-3 --synthetic --rule clapp++/tanh --out O", "unknown option 'tanh'" },
        { "backprop baseline on the local graph", null, "run mlp-3 --synthetic --rule bp-infonce --out O", "'bp-infonce' is a backprop baseline" },
        { "pipelined backprop", null, "run mlp-3 --synthetic --graph backprop --rule bp-clapp++ --schedule pipelined --out O", "backward-locked" },
        { "unknown schedule", null, "run mlp-3 --synthetic --schedule fast --out O", "schedule 'fast': choose pipelined, sequential or greedy" },
        { "resume without --out", null, "run mlp-3 --synthetic --resume", "--resume needs --out" },
        { "resume and overwrite", null, "run mlp-3 --synthetic --resume --overwrite --out O", "give one" },
        { "resume of nothing", null, "run mlp-3 --synthetic --resume --out O", "holds no run to resume" },
        { "output is a file", "{}", "run mlp-3 --synthetic --out F", "F: is a file" },
        { "missing spec file", null, "run " + Path.Combine("no", "such", "spec.json") + " --out O", "no such file, and not a preset" },
        { "unknown set key", null, "run mlp-3 --synthetic --set stepz=3 --out O", "stepz" },
        { "describe: unknown rule", """{"name":"x","input":{"channels":1,"height":4,"width":4},"layers":[{"name":"a","kind":"linear","width":4}],"rule":"clapp+++"}""", "describe F", "rule 'clapp+++' is not in the catalogue" },
        { "describe: a layer too wide for a tensor", """{"name":"x","input":{"channels":1,"height":4,"width":4},"layers":[{"name":"a","kind":"linear","width":2000000000}],"rule":"clapp++"}""", "describe F", "F: layer 1 'a': 34,000,000,000 weights" },
        { "comparison without variant for bench", """{ "name": "c", "base": { "network": "mlp-3" }, "variants": [ { "name": "A", "set": { "rule": "clapp++" } } ] }""", "bench train F", "F is a comparison: name a variant with --variant (A)" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_is_one_line_exit_2_and_writes_nothing(string name, string? file, string command, string expected)
    {
        string f = Path.Combine(_root, $"{name.Replace(' ', '-')}.json"), o = Path.Combine(_root, $"out-{name.Replace(' ', '-')}");
        if (file is not null) File.WriteAllText(f, file);
        string[] args = [.. command.Split(' ').Select(a => a == "F" ? f : a == "O" ? o : a)];
        var (code, output, errors) = CliTests.Run(args);
        Assert.True(code == 2, $"{name}: exit {code}\n{output}\n{errors}");
        Assert.DoesNotContain("Unhandled", errors);
        Assert.DoesNotContain("   at ", errors);
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{name}: {lines.Length} lines:\n{errors}");
        Assert.StartsWith("plastic: ", lines[0]);
        Assert.Contains(expected.Replace("F", f, StringComparison.Ordinal), lines[0]);
        Assert.False(Directory.Exists(o), $"{name}: the output folder was created");
    }

    [Fact]
    public void Damaged_run_files_are_one_line_each_and_a_cut_last_span_line_is_tolerated()
    {
        string run = Path.Combine(_root, "run");
        Assert.Equal(0, CliTests.Run("run", "mlp-3", "--synthetic", "--steps", "3", "--batch", "4", "--out", run).code);
        string traces = Path.Combine(run, "traces.jsonl");
        var lines = File.ReadAllLines(traces);
        File.WriteAllLines(traces, [.. lines[..^1], lines[^1][..(lines[^1].Length / 2)]]); // killed mid-line
        Assert.Equal(0, CliTests.Run("trace", run).code);
        File.WriteAllLines(traces, [lines[0][..10], .. lines[1..]]);                     // damaged in the middle
        var damaged = CliTests.Run("trace", run);
        Assert.Equal(2, damaged.code);
        Assert.Matches($@"^plastic: {System.Text.RegularExpressions.Regex.Escape(traces)}:1: not a span line .*\n$", damaged.errors);
        string weights = Path.Combine(run, "weights.npz");
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..500]);
        var probe = CliTests.Run("probe", run, "--dataset", "cifar10", "--data", _root);
        Assert.Equal(2, probe.code);
        Assert.Matches($@"^plastic: {System.Text.RegularExpressions.Regex.Escape(weights)}: not an \.npz.*\n$", probe.errors);
    }
}
