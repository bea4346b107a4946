namespace Plastic.Datasets.Catalog;

/// <summary>Where data lives: --data, else $PLASTIC_DATA, else a per-user cache folder.</summary>
public static class DataRoot
{
    public const string Variable = "PLASTIC_DATA";

    public static string Resolve(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option)) return Path.GetFullPath(option);
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } fromEnvironment) return Path.GetFullPath(fromEnvironment);
        string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "plastic", "data");
    }
}
