namespace Plastic.Datasets.Catalog;

/// <summary>Where data lives: --data, else $PLASTIC_DATA, else a per-user cache folder.</summary>
public static class DataRoot
{
    public const string Variable = "PLASTIC_DATA";

    /// <remarks>A root that is a file is refused, naming where it came from.</remarks>
    public static string Resolve(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option)) return Folder(option, "--data");
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } fromEnvironment) return Folder(fromEnvironment, Variable);
        string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "plastic", "data");
    }

    private static string Folder(string given, string from) =>
        File.Exists(given) ? throw new ArgumentException($"{from} {given}: is a file; the data root is the folder that holds the data sets.") : Path.GetFullPath(given);
}
