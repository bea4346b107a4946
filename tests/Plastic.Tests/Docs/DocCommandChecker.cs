using System.CommandLine;
using System.Text.RegularExpressions;
using Plastic.Cli;
using Plastic.Tests.Cli;
using Plastic.Tests.Support;

namespace Plastic.Tests.Docs;

/// <summary>
/// Says what is stale in a command the docs show, without running anything long. A `plastic` command is
/// checked against the tool itself: its subcommand exists, every option it uses is in that subcommand's
/// --help, it parses without errors, and every repository path it names exists. Commands that are
/// already tiny (--help, describe, devices, data list, and --smoke where the caller allows it) are also
/// run, in process. Scripts must read every option they are given; dotnet build/test must name projects
/// that exist. Any other program only has its repository paths checked.
/// </summary>
internal sealed class DocCommandChecker(string repository, string scratch)
{
    // Values of these options are written, not read: they need not exist.
    private static readonly HashSet<string> OutputOptions = ["--out", "--dump", "--results-directory", "-o", "--output"];

    // dotnet build/test options that take a value; every other word that is not an option is a project path.
    private static readonly HashSet<string> DotnetValueOptions =
        ["-c", "--configuration", "--filter", "--logger", "--results-directory", "-f", "--framework", "-o", "--output", "-v", "--verbosity", "--project", "-p", "--property"];

    private readonly Dictionary<string, string> _help = [];
    private string? _fakeData;

    /// <summary>The problems of one command; empty when it is current. Runs --smoke commands only when <paramref name="runSmoke"/>.</summary>
    public IReadOnlyList<string> Check(IReadOnlyList<string> words, bool runSmoke)
    {
        var problems = new List<string>();
        string program = words[0];
        if (program == "plastic" || program.EndsWith("/plastic", StringComparison.Ordinal))
            CheckPlastic(words.Skip(1).ToList(), runSmoke, problems);
        else if (program == "dotnet" && words.Count > 1 && words[1] == "run")
            CheckDotnetRun(words.Skip(2).ToList(), runSmoke, problems);
        else if (program == "dotnet" && words.Count > 1 && words[1] is "build" or "test")
            CheckProjectPaths(words.Skip(2).ToList(), problems);
        else
            CheckRepositoryPaths(words, problems);
        return problems;
    }

    private void CheckPlastic(List<string> args, bool runSmoke, List<string> problems)
    {
        var (path, command) = Resolve(args);
        if (path.Count == 0)
        {
            problems.Add($"`plastic {args.FirstOrDefault()}` is not a plastic command");
            return;
        }
        string help = Help(path);
        foreach (string option in args.Where(IsOption).Select(a => a.Split('=')[0]).Distinct())
            if (!Regex.IsMatch(help, $@"(?<![\w-]){Regex.Escape(option)}(?![\w-])"))
                problems.Add($"{option} is not an option of `plastic {string.Join(' ', path)}` (not in its --help)");
        var parsed = PlasticCommand.Build().Parse(args);
        problems.AddRange(parsed.Errors.Select(e => $"plastic does not parse it: {e.Message}"));
        CheckRepositoryPaths(args, problems);
        if (problems.Count > 0 || command.Subcommands.Count > 0) return;

        string joined = string.Join(' ', path);
        bool smoke = args.Contains("--smoke");
        bool tiny = args.Contains("--help") || joined is "describe" or "devices" or "data list" || (smoke && runSmoke);
        if (!tiny || args.Contains("--help")) return; // --help has been run above
        var run = args.Select(Absolute).ToList();
        if (smoke)
        {
            // The docs' smoke runs want real data and write to runs/: here a fake CIFAR-10 and a scratch folder.
            if (!run.Contains("--data")) run.AddRange(["--data", FakeData()]);
            if (!run.Contains("--out")) run.AddRange(["--out", Path.Combine(scratch, $"run-{Guid.NewGuid():N}")]);
        }
        var (code, output, errors) = CliTests.Run([.. run]);
        if (code != 0) problems.Add($"exit code {code}: {Tail(errors + output)}");
    }

    /// <summary>The subcommand the arguments name (as the words of its path) and its command object; an empty path when none.</summary>
    private static (List<string> Path, Command Command) Resolve(List<string> args)
    {
        Command command = PlasticCommand.Build();
        var path = new List<string>();
        foreach (string word in args)
        {
            var sub = command.Subcommands.FirstOrDefault(s => s.Name == word);
            if (sub is null) break;
            command = sub;
            path.Add(word);
        }
        return (path, command);
    }

    private string Help(List<string> path)
    {
        string key = string.Join(' ', path);
        if (!_help.TryGetValue(key, out var text))
        {
            var (code, output, errors) = CliTests.Run([.. path, "--help"]);
            _help[key] = text = code == 0 ? output : throw new InvalidOperationException($"`plastic {key} --help` failed: {errors}");
        }
        return text;
    }

    private void CheckDotnetRun(List<string> args, bool runSmoke, List<string> problems)
    {
        int separator = args.IndexOf("--");
        var before = separator < 0 ? args : args[..separator];
        var after = separator < 0 ? [] : args[(separator + 1)..];
        int project = before.IndexOf("--project");
        if (project >= 0 && project + 1 < before.Count)
        {
            string folder = before[project + 1];
            if (!Exists(folder)) problems.Add($"project {folder} does not exist");
            else if (folder.TrimEnd('/') == "experiments/Plastic.Cli") CheckPlastic(after, runSmoke, problems);
            return;
        }
        string? script = before.FirstOrDefault(a => a.EndsWith(".cs", StringComparison.Ordinal));
        if (script is null)
        {
            CheckRepositoryPaths(args, problems);
            return;
        }
        if (!Exists(script))
        {
            problems.Add($"script {script} does not exist");
            return;
        }
        // The scripts read their options by name (Arg("--out"), args.Contains("--smoke")); ScriptTests runs them.
        string source = File.ReadAllText(Path.Combine(repository, script));
        foreach (string option in after.Where(IsOption).Distinct())
            if (!source.Contains($"\"{option}\"", StringComparison.Ordinal))
                problems.Add($"{script} does not read {option}");
        CheckRepositoryPaths(after, problems);
    }

    private void CheckProjectPaths(List<string> args, List<string> problems)
    {
        for (int i = 0; i < args.Count; i++)
        {
            if (DotnetValueOptions.Contains(args[i])) { i++; continue; }
            if (IsOption(args[i])) continue;
            if (!Exists(args[i])) problems.Add($"{args[i]} does not exist");
        }
    }

    /// <summary>Every word that names something under the repository's top-level entries must exist, unless it is an output.</summary>
    private void CheckRepositoryPaths(IReadOnlyList<string> words, List<string> problems)
    {
        for (int i = 0; i < words.Count; i++)
        {
            if (i > 0 && OutputOptions.Contains(words[i - 1])) continue;
            string word = words[i];
            if (IsOption(word) || word.Contains("://", StringComparison.Ordinal)) continue;
            // --set network=experiments/specs/x.json names a path after the '='.
            string candidate = word.Contains('=') ? word[(word.IndexOf('=') + 1)..] : word;
            if (IsRepositoryPath(candidate) && !Exists(candidate)) problems.Add($"{candidate} does not exist in the repository");
        }
    }

    // The folders the repository ships. A word under another one (runs/, a user's own) is the docs' example of
    // a place the reader chooses, and may or may not exist here.
    private static readonly HashSet<string> SourceFolders = ["sim", "rules", "topology", "datasets", "experiments", "tests", "tools", "docs", ".ci"];

    private static bool IsRepositoryPath(string word)
    {
        int slash = word.IndexOf('/');
        return slash > 0 && SourceFolders.Contains(word[..slash]);
    }

    private bool Exists(string relative) =>
        File.Exists(Path.Combine(repository, relative)) || Directory.Exists(Path.Combine(repository, relative));

    private string Absolute(string word) => IsRepositoryPath(word) ? Path.Combine(repository, word) : word;

    private static bool IsOption(string word) => word.StartsWith('-') && word.Length > 1 && word != "--";

    private string FakeData()
    {
        if (_fakeData is null)
        {
            _fakeData = Path.Combine(scratch, "data");
            TestData.FakeCifar10(_fakeData, 64, 32, seed: 6);
        }
        return _fakeData;
    }

    private static string Tail(string text) => text.Length <= 600 ? text : "..." + text[^600..];
}
