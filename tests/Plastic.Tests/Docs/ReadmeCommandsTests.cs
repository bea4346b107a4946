using System.CommandLine;
using System.Text.RegularExpressions;
using Plastic.Cli;
using Plastic.Tests.Support;

namespace Plastic.Tests.Docs;

/// <summary>
/// The commands that README.md and docs/*.md tell a person to type still work, and the pages still
/// describe the tool that is built: so the docs cannot rot unnoticed. In the Console collection because
/// the checker runs `plastic` in process with the console redirected.
/// </summary>
[Collection("Console")]
public sealed partial class ReadmeCommandsTests : IDisposable
{
    private readonly string _repository = PythonPeer.RepositoryRoot();
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), $"plastic-docs-{Guid.NewGuid():N}");

    public ReadmeCommandsTests() => Directory.CreateDirectory(_scratch);

    public void Dispose()
    {
        if (Directory.Exists(_scratch)) Directory.Delete(_scratch, recursive: true);
    }

    private IEnumerable<string> Pages() =>
        new[] { Path.Combine(_repository, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(_repository, "docs"), "*.md").Order(StringComparer.Ordinal));

    private string Shown(string page) => Path.GetRelativePath(_repository, page).Replace('\\', '/');

    [Fact]
    public void Every_command_in_the_readme_and_the_docs_is_current()
    {
        var checker = new DocCommandChecker(_repository, _scratch);
        var problems = new List<string>();
        int count = 0;
        var seen = new HashSet<string>();
        foreach (string page in Pages())
        {
            // Only the README's --smoke commands are run: a smoke run of the paper-scale spec takes minutes.
            bool runSmoke = Shown(page) == "README.md";
            foreach (var command in DocCommands.Read(page, Shown(page)))
            {
                count++;
                if (!seen.Add($"{runSmoke}|{string.Join('\u0001', command.Words)}")) continue;
                problems.AddRange(checker.Check(command.Words, runSmoke).Select(p => $"{command}\n    {p}"));
            }
        }
        Assert.True(count >= 40, $"only {count} commands found in the docs' shell blocks: is the extraction broken?");
        Assert.True(problems.Count == 0, "stale commands in the docs:\n" + string.Join('\n', problems));
    }

    [Fact]
    public void The_readme_shows_the_build_and_the_test_command_that_ci_runs()
    {
        // .ci/run says which test command it runs; a new user must be told the same one.
        string ci = File.ReadAllText(Path.Combine(_repository, ".ci", "run"));
        var test = CiTestCommand().Match(ci);
        Assert.True(test.Success, ".ci/run no longer runs `dotnet test <project> -c Release`");
        var readme = DocCommands.Read(Path.Combine(_repository, "README.md"), "README.md").Select(c => string.Join(' ', c.Words)).ToList();
        Assert.Contains($"dotnet test {test.Groups[1].Value} -c Release", readme);
        Assert.Contains(readme, c => c.StartsWith("dotnet build", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("plastic compare experiments/quickstart/spec.json --smok")]          // a misspelled option
    [InlineData("plastic run experiments/runs/cifar10-clap++.json")]                 // a file that is not there
    [InlineData("plastic trian mlp-3")]                                              // a command that is not there
    [InlineData("plastic data export cifar10")]                                      // a required argument left out
    [InlineData("plastic data fetch cifar10 --workers 2")]                           // another subcommand's option
    [InlineData("dotnet run -c Release experiments/scripts/dfb-alignment.cs -- --epochs 2")] // an option the script does not read
    [InlineData("dotnet test tests/Plastic.Tset -c Release")]                        // a project that is not there
    [InlineData("plastic describe vgg6-cifar-smal")]                                 // a tiny command that fails when run
    public void The_checker_finds_what_is_stale(string line)
    {
        var command = DocCommands.Parse($"```bash\n{line}\n```\n", "planted").Single();
        Assert.NotEmpty(new DocCommandChecker(_repository, _scratch).Check(command.Words, runSmoke: false));
    }

    [Fact]
    public void The_shell_reading_keeps_quotes_and_continuations_and_splits_at_separators()
    {
        var commands = DocCommands.Parse(
            "```bash\nA=1 plastic run x --placement \"w1=a,b;w2=c\" \\\n  --out runs/y && plastic trace runs/y   # why\n```\n```text\nplastic ignored\n```\n", "t");
        Assert.Equal(2, commands.Count);
        Assert.Equal(["plastic", "run", "x", "--placement", "w1=a,b;w2=c", "--out", "runs/y"], commands[0].Words);
        Assert.Equal(["plastic", "trace", "runs/y"], commands[1].Words);
    }

    [Fact]
    public void The_cli_page_names_every_command_and_option_of_the_tool()
    {
        string page = File.ReadAllText(Path.Combine(_repository, "docs", "cli.md"));
        var missing = new List<string>();
        foreach (var (path, command) in Leaves(PlasticCommand.Build(), ""))
        {
            string heading = $"## `plastic {path}`";
            int start = page.IndexOf(heading + "\n", StringComparison.Ordinal);
            if (start < 0) { missing.Add(heading); continue; }
            int end = page.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
            string section = end < 0 ? page[start..] : page[start..end];
            missing.AddRange(command.Options.Select(o => o.Name).Where(n => n is not ("--help" or "--version"))
                .Where(n => !section.Contains(n + " ", StringComparison.Ordinal)).Select(n => $"plastic {path} {n}"));
        }
        Assert.True(missing.Count == 0, "docs/cli.md does not describe: " + string.Join(", ", missing) + " (paste its --help output there)");
    }

    private static IEnumerable<(string Path, Command Command)> Leaves(Command command, string path) =>
        command.Subcommands.Count == 0
            ? [(path, command)]
            : command.Subcommands.SelectMany(s => Leaves(s, path.Length == 0 ? s.Name : $"{path} {s.Name}"));

    [Fact]
    public void Links_between_the_pages_lead_somewhere()
    {
        var broken = new List<string>();
        foreach (string page in Pages())
        {
            string text = File.ReadAllText(page);
            foreach (Match link in RelativeLink().Matches(text))
            {
                string target = link.Groups[1].Value, anchor = link.Groups[2].Value;
                string file = target.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, target));
                if (!File.Exists(file) && !Directory.Exists(file)) { broken.Add($"{Shown(page)}: {link.Value}"); continue; }
                if (anchor.Length > 0 && !Headings(File.ReadAllText(file)).Contains(anchor)) broken.Add($"{Shown(page)}: {link.Value} (no such heading)");
            }
        }
        Assert.True(broken.Count == 0, "broken links:\n" + string.Join('\n', broken));
    }

    /// <summary>The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static HashSet<string> Headings(string markdown) =>
        Heading().Matches(Fences().Replace(markdown, "")).Select(m => Punctuation().Replace(m.Groups[1].Value.Trim().ToLowerInvariant(), "").Replace(' ', '-')).ToHashSet();

    [GeneratedRegex(@"dotnet test (\S+) -c Release")]
    private static partial Regex CiTestCommand();

    // Links to files of the repository: not http(s), not mailto; the path and the #anchor apart.
    [GeneratedRegex(@"\]\((?!https?:|mailto:)([^)#\s]*)(?:#([^)\s]+))?\)")]
    private static partial Regex RelativeLink();

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\s*```.*?^\s*```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fences();

    [GeneratedRegex(@"[^\p{L}\p{Nd}\s_-]")]
    private static partial Regex Punctuation();
}
