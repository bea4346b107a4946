using System.Security.Cryptography;

namespace Plastic.Tests.Cli;

/// <summary>The finished and the killed run folder the corpus's run-folder cases start from, made once.</summary>
public sealed class BadInputRuns : IDisposable
{
    public BadInputRuns()
    {
        string[] run = ["run", "mlp-3", "--synthetic", "--batch", "4", "--steps", "6", "--checkpoint-every", "3"];
        var finished = CliTests.Run([.. run, "--out", Finished]);
        if (finished.code != 0) throw new InvalidOperationException(finished.errors);
        var killed = CliTests.Run([.. run, "--out", Killed]);
        if (killed.code != 0) throw new InvalidOperationException(killed.errors);
        // Killed after the checkpoint of step 5 was complete, before its results were written.
        foreach (var file in new[] { "results.json", "weights.npz", "weights.safetensors", "loss.png" }) File.Delete(Path.Combine(Killed, file));
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("plastic-bad-runs-").FullName;
    public string Finished => Path.Combine(Root, "finished");
    public string Killed => Path.Combine(Root, "killed");

    public string Of(BadInputFolder folder) => folder == BadInputFolder.Finished ? Finished : Killed;

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// Every case of <see cref="BadInputCorpus"/>: exit 2, one line "plastic: ..." naming the file, key, flag or
/// variable at fault (the case's expected text), no stack trace, and the output or run folder as it was
/// (not created, or unchanged byte for byte), and no image cache half written beside the data. Cases with environment variables run as their own process,
/// so the tests beside them never see those variables.
/// </summary>
[Collection("Console")]
public sealed class BadInputCorpusTests(BadInputRuns runs) : IClassFixture<BadInputRuns>, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-bad-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // By name, so that every case is a test of its own in the runner's count.
    public static TheoryData<string> Cases => [.. BadInputCorpus.All.Select(c => c.Name)];

    [Fact]
    public void The_corpus_holds_at_least_80_bad_inputs_with_distinct_names()
    {
        var names = BadInputCorpus.All.Select(c => c.Name).ToList();
        Assert.True(names.Count >= 80, $"{names.Count} cases");
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_is_one_line_exit_2_and_leaves_the_folder_as_it_was(string name)
    {
        var input = BadInputCorpus.All.Single(c => c.Name == name);
        string dir = Path.Combine(_root, "case"), output = Path.Combine(_root, "out");
        Directory.CreateDirectory(dir);
        if (input.Folder != BadInputFolder.None) Copy(runs.Of(input.Folder), output);
        string? first = null;
        foreach (var (file, bytes) in input.Files)
        {
            string path = file.StartsWith("O/", StringComparison.Ordinal) ? Path.Combine(output, file[2..]) : Path.Combine(dir, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            if (!file.StartsWith("O/", StringComparison.Ordinal)) first ??= path;
        }
        foreach (var file in input.Removed) File.Delete(Path.Combine(output, file[2..]));
        string Fill(string text) => text.Replace("{F}", first ?? "", StringComparison.Ordinal).Replace("{D}", dir, StringComparison.Ordinal).Replace("{O}", output, StringComparison.Ordinal);
        string[] args = [.. input.Command.Split(' ').Select(Fill)];
        var before = Snapshot(output);

        var (code, errors) = await RunAsync(args, input.Environment);

        Assert.True(code == 2, $"{input.Name}: exit {code}\n{errors}");
        Assert.DoesNotContain("Unhandled", errors);
        Assert.DoesNotContain("   at ", errors);
        var lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{input.Name}: {lines.Length} lines:\n{errors}");
        Assert.StartsWith("plastic: ", lines[0]);
        Assert.Contains(Fill(input.Expected), lines[0]);
        if (input.Folder == BadInputFolder.None) Assert.False(Directory.Exists(output), $"{input.Name}: the output folder was created");
        else Assert.Equal(before, Snapshot(output));
        // Nothing half written beside the data: no partial file, and no image cache's pixels without the manifest that marks them whole.
        var written = Directory.GetFiles(dir, "*", SearchOption.AllDirectories);
        Assert.DoesNotContain(written, f => f.Contains(".partial", StringComparison.Ordinal));
        Assert.All(written.Where(f => f.EndsWith(".pixels", StringComparison.Ordinal)), f => Assert.True(File.Exists(Path.ChangeExtension(f, ".json")), f));
    }

    [Fact]
    public void A_span_line_cut_short_by_a_kill_is_tolerated()
    {
        string run = Path.Combine(_root, "run");
        Copy(runs.Finished, run);
        string traces = Path.Combine(run, "traces.jsonl");
        var lines = File.ReadAllLines(traces);
        File.WriteAllLines(traces, [.. lines[..^1], lines[^1][..(lines[^1].Length / 2)]]);
        var trace = CliTests.Run("trace", run);
        Assert.True(trace.code == 0, trace.errors);
        Assert.Contains("verdict: local", trace.output);
    }

    /// <summary>The command in this process, or (with environment variables) as its own process.</summary>
    private static async Task<(int Code, string Errors)> RunAsync(string[] args, IReadOnlyDictionary<string, string> environment)
    {
        if (environment.Count == 0)
        {
            var (code, _, errors) = CliTests.Run(args);
            return (code, errors);
        }
        using var plastic = PlasticProcess.Start(environment, args);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await plastic.Process.WaitForExitAsync(timeout.Token);
        return (plastic.Process.ExitCode, plastic.Errors);
    }

    /// <summary>Every file under the folder with a hash of its bytes (empty when there is no folder).</summary>
    private static SortedDictionary<string, string> Snapshot(string folder)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(folder)) return files;
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
            files[Path.GetRelativePath(folder, file)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
        return files;
    }

    private static void Copy(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
