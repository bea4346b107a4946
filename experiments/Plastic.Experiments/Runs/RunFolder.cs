using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Plastic.Experiments.Runs;

/// <summary>What a run may do with a folder that already holds a run.</summary>
public enum FolderUse
{
    /// <summary>The folder must be new, empty or hold no run.</summary>
    New,
    /// <summary>Continue the run the folder holds: same resolved config, from its latest complete checkpoint.</summary>
    Resume,
    /// <summary>Remove the run the folder holds first.</summary>
    Overwrite,
}

/// <summary>
/// A run's claim on its folder, taken before anything is written there: a folder holding another run is
/// refused unless the run resumes it (same resolved config, keys that differ named) or overwrites it; a lock
/// file keeps two runs out of one folder (the lock of a process that is gone is taken over). Disposing
/// releases the lock, and removes a folder the claim created when the run failed before it began training
/// (data, cluster or set-up errors leave no empty run folder behind).
/// </summary>
public sealed class RunFolder : IDisposable
{
    public const string LockFile = ".plastic.lock";
    /// <summary>The files and folders a run writes; what makes a folder hold a run, and what --overwrite removes.</summary>
    public static readonly string[] RunEntries =
        [RunFolderFiles.ConfigFile, "results.json", "metrics.csv", "alignment.csv", "probe.json", "traces.jsonl", "loss.png", "alignment.png",
         "online_probe.csv", "online_probe.png", WeightsFile.Name, "weights.safetensors", "checkpoints"];

    private readonly string _lock;
    private readonly string? _created;
    private bool _training;

    private RunFolder(string lockPath, string? created) => (_lock, _created) = (lockPath, created);

    /// <summary>Training begins: from now on the folder is the run's record, kept whatever happens.</summary>
    public void TrainingStarts() => _training = true;

    /// <summary>A short hash of a resolved config (the commit left out): what checkpoints are tagged with, so a resume takes only its own run's.</summary>
    public static string ConfigTag(JsonObject config)
    {
        var copy = Comparable(config);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(copy.ToJsonString())))[..16].ToLowerInvariant();
    }

    /// <summary>
    /// Checks, reading only, that a run whose resolved config is <paramref name="config"/> may use
    /// <paramref name="folder"/> as asked; false when a resume finds the run there finished (said, and left
    /// untouched). Refusals name the folder and what to do.
    /// </summary>
    public static bool Admits(string folder, FolderUse use, JsonObject config, Action<string> log)
    {
        if (File.Exists(folder)) throw new ArgumentException($"--out {folder}: is a file; a run folder is a directory.");
        string configPath = Path.Combine(folder, RunFolderFiles.ConfigFile);
        if (use != FolderUse.Resume)
        {
            if (use == FolderUse.New && HoldsRun(folder))
                throw new ArgumentException($"--out {folder}: holds a run already; continue it with --resume, replace it with --overwrite, or choose another folder.");
            return true;
        }
        if (!File.Exists(configPath)) throw new ArgumentException($"--out {folder}: holds no run to resume ({RunFolderFiles.ConfigFile} is missing).");
        var differing = DifferingKeys(RunConfigFile.Read(configPath), config);
        if (differing.Count > 0)
            throw new ArgumentException($"--resume {folder}: the run there was made with another config; these keys differ: {string.Join(", ", differing.Take(12))}{(differing.Count > 12 ? $" and {differing.Count - 12} more" : "")}. Resume with the same spec and options, or start a new run (--overwrite replaces it).");
        string resultsPath = Path.Combine(folder, "results.json");
        if (!File.Exists(resultsPath)) return true;
        var results = RunConfigFile.Read(resultsPath);
        string? status = results["status"]?.GetValue<string>();
        if (status == RunFolderFiles.StoppedStatus) return true;
        if (status == RunFolderFiles.DivergedStatus)
            throw new ArgumentException($"--resume {folder}: the run there diverged ({results["error"]?.GetValue<string>()}); a resume replays the same steps and would diverge again. Start a new run with a lower learning rate (--overwrite replaces this one).");
        log($"{folder}: the run there is finished (results.json is written); nothing to resume, nothing changed.");
        return false;
    }

    /// <summary>Takes the folder's lock (after <see cref="Admits"/>) and, to overwrite, removes the run it holds.</summary>
    public static RunFolder Claim(string folder, FolderUse use, Action<string> log)
    {
        bool holdsRun = HoldsRun(folder);
        bool created = !Directory.Exists(folder);
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"--out {folder}: cannot create the run folder there ({e.Message}).");
        }
        var claimed = new RunFolder(TakeLock(folder), created ? folder : null);
        if (use == FolderUse.Overwrite && holdsRun)
        {
            foreach (var entry in RunEntries.Select(e => Path.Combine(folder, e)))
                if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                else File.Delete(entry);
            log($"--overwrite: removed the run that was in {folder}");
        }
        return claimed;
    }

    private static bool HoldsRun(string folder) => Directory.Exists(folder) && RunEntries.Any(e => Path.Exists(Path.Combine(folder, e)));

    /// <summary>The leaf keys (dotted paths) whose values differ between two resolved configs, the commit left out.</summary>
    public static IReadOnlyList<string> DifferingKeys(JsonObject a, JsonObject b)
    {
        var left = Leaves(Comparable(a));
        var right = Leaves(Comparable(b));
        return [.. left.Keys.Union(right.Keys).Order(StringComparer.Ordinal)
            .Where(k => left.GetValueOrDefault(k) != right.GetValueOrDefault(k))];
    }

    public void Dispose()
    {
        try { File.Delete(_lock); }
        catch (IOException) { /* the folder went away: nothing to release */ }
        if (_created is not null && !_training && Directory.Exists(_created)) Directory.Delete(_created, recursive: true);
    }

    private static JsonObject Comparable(JsonObject config)
    {
        var copy = (JsonObject)config.DeepClone();
        copy.Remove("commit");
        return copy;
    }

    private static Dictionary<string, string> Leaves(JsonNode? node, string prefix = "", Dictionary<string, string>? into = null)
    {
        into ??= [];
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o) Leaves(v, prefix.Length == 0 ? k : $"{prefix}.{k}", into);
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++) Leaves(a[i], $"{prefix}[{i}]", into);
                break;
            default:
                into[prefix] = node?.ToJsonString() ?? "null";
                break;
        }
        return into;
    }

    /// <summary>The folder's lock, made exclusively; one left by a process that is no longer running is taken over.</summary>
    private static string TakeLock(string folder)
    {
        string path = Path.Combine(folder, LockFile);
        for (int attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                stream.Write(Encoding.UTF8.GetBytes($"{Environment.ProcessId} {Environment.MachineName}\n"));
                return path;
            }
            catch (IOException) when (File.Exists(path))
            {
                var holder = File.ReadAllText(path).Split(' ', 2);
                if (int.TryParse(holder[0], out int pid) && holder.Length == 2 && holder[1].Trim() == Environment.MachineName && IsRunning(pid))
                    throw new ArgumentException($"--out {folder}: another run (process {pid}) is using this folder; wait for it or choose another folder.");
                File.Delete(path); // stale: its process is gone
            }
        }
        throw new ArgumentException($"--out {folder}: could not take its lock ({LockFile}).");
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
