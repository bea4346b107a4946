using System.Text;
using System.Text.RegularExpressions;

namespace Plastic.Tests.Docs;

/// <summary>One shell command of a page: its words as the shell would split them, and where it stands.</summary>
internal sealed record DocCommand(string File, int Line, IReadOnlyList<string> Words)
{
    public override string ToString() => $"{File}:{Line}: {string.Join(' ', Words)}";
}

/// <summary>
/// The shell commands in a Markdown page's bash/sh/shell fences. Enough of the shell to read what the
/// docs write: quotes, backslash continuations, comments, and the separators && || | ; between commands.
/// Leading VAR=value assignments are dropped, so the first word is the program.
/// </summary>
internal static partial class DocCommands
{
    private static readonly HashSet<string> ShellFences = ["bash", "sh", "shell", "console"];

    public static IReadOnlyList<DocCommand> Read(string path, string shownAs) => Parse(File.ReadAllText(path), shownAs);

    public static IReadOnlyList<DocCommand> Parse(string markdown, string shownAs)
    {
        var commands = new List<DocCommand>();
        string[] lines = markdown.Split('\n');
        bool inFence = false, shell = false;
        var logical = new StringBuilder();
        int logicalStart = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            var fence = FenceLine().Match(line);
            if (fence.Success)
            {
                // A fence line opens a block when outside one, and closes the open one otherwise.
                shell = !inFence && ShellFences.Contains(fence.Groups[1].Value.ToLowerInvariant());
                inFence = !inFence;
                continue;
            }
            if (!inFence || !shell) continue;
            if (logical.Length == 0) logicalStart = i + 1;
            if (line.EndsWith('\\') && !line.TrimStart().StartsWith('#'))
            {
                logical.Append(line[..^1]).Append(' ');
                continue;
            }
            logical.Append(line);
            foreach (var words in Split(logical.ToString()))
                commands.Add(new DocCommand(shownAs, logicalStart, words));
            logical.Clear();
        }
        return commands;
    }

    /// <summary>The commands of one logical line, each as its words (assignments before the program dropped).</summary>
    internal static IEnumerable<IReadOnlyList<string>> Split(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        char quote = '\0';
        IEnumerable<IReadOnlyList<string>> EndCommand()
        {
            if (inWord) words.Add(word.ToString());
            word.Clear();
            inWord = false;
            var program = words.SkipWhile(w => Assignment().IsMatch(w)).ToList();
            words.Clear();
            if (program.Count > 0) yield return program;
        }

        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else if (c == '\\' && quote == '"' && i + 1 < line.Length) word.Append(line[++i]);
                else word.Append(c);
                continue;
            }
            if (c is '\'' or '"') { quote = c; inWord = true; continue; }
            if (c == '\\' && i + 1 < line.Length) { word.Append(line[++i]); inWord = true; continue; }
            if (c == '#' && !inWord) break;
            if (c is '&' or '|' or ';')
            {
                foreach (var command in EndCommand()) yield return command;
                if (i + 1 < line.Length && line[i + 1] == c && c != ';') i++;
                continue;
            }
            if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
                continue;
            }
            word.Append(c);
            inWord = true;
        }
        foreach (var command in EndCommand()) yield return command;
    }

    [GeneratedRegex(@"^\s*```\s*([\w+-]*)")]
    private static partial Regex FenceLine();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*=")]
    private static partial Regex Assignment();
}
