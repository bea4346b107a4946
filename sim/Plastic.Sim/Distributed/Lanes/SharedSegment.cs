using System.IO.MemoryMappedFiles;

namespace Plastic.Sim.Distributed.Lanes;

/// <summary>
/// A file in the host's shared memory (/dev/shm), mapped into this process: the sender's arena of tensors
/// (<see cref="SharedArena"/>) or, in a receiving process on the same host, a view of another process's arena.
/// Only Linux is served: where there is no /dev/shm, lanes stay on TCP.
/// </summary>
internal sealed unsafe class SharedSegment : IDisposable
{
    private const string Folder = "/dev/shm";
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly bool _owned;
    private int _disposed;

    private SharedSegment(string path, MemoryMappedFile file, bool owned)
    {
        Path = path;
        _file = file;
        _owned = owned;
        // A process that exits before its actor system ends (a worker whose driver is gone gives its system
        // 10 s) still removes its file; only the name goes, so a thread still writing to the ring is safe.
        if (owned) AppDomain.CurrentDomain.ProcessExit += RemoveFile;
        try
        {
            _view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.ReadWrite);
            byte* start = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            Start = start + _view.PointerOffset;
            Capacity = (long)_view.SafeMemoryMappedViewHandle.ByteLength - _view.PointerOffset;
        }
        catch
        {
            _view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    public string Path { get; }
    public byte* Start { get; }
    public long Capacity { get; }

    /// <summary>The boot of this host (Linux's boot_id): a segment named with another is on another host, or from before a restart.</summary>
    public static string? HostBoot { get; } = ReadBoot();

    /// <summary>Whether this host has shared memory for lanes.</summary>
    public static bool Available => HostBoot is not null && Directory.Exists(Folder);

    private static string? ReadBoot()
    {
        try
        {
            return OperatingSystem.IsLinux() ? File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Makes a new segment of <paramref name="capacity"/> bytes (zeroed by the kernel), named by this host's boot,
    /// this process and a random part, so that no other segment, now or after a restart, has its name.
    /// </summary>
    public static SharedSegment Create(long capacity)
    {
        if (!Available || !OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("this host has no /dev/shm shared memory");
        RemoveOrphans();
        string path = System.IO.Path.Combine(Folder, $"plastic-lane-{HostBoot}-{Environment.ProcessId}-{Random.Shared.NextInt64():x16}");
        // Readable and writable by this user only: another user's process cannot map it and fetches over TCP.
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        try
        {
            stream.SetLength(capacity);
            return new SharedSegment(path, MemoryMappedFile.CreateFromFile(stream, null, capacity, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false), owned: true);
        }
        catch
        {
            stream.Dispose();
            File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// Removes the segments of processes of this boot that are gone (killed before they could remove their own):
    /// each holds up to its capacity of the host's memory until removed.
    /// </summary>
    internal static void RemoveOrphans()
    {
        if (!Available) return;
        string prefix = $"plastic-lane-{HostBoot}-";
        foreach (var path in Directory.EnumerateFiles(Folder, prefix + "*"))
        {
            var rest = System.IO.Path.GetFileName(path).AsSpan(prefix.Length);
            int dash = rest.IndexOf('-');
            if (dash <= 0 || !int.TryParse(rest[..dash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)) continue;
            if (Directory.Exists($"/proc/{pid}")) continue;
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's, or removed meanwhile: not ours to worry about.
            }
        }
    }

    /// <summary>
    /// Maps the segment another process on this host made; null when <paramref name="path"/> is not one (another
    /// host's boot, not in /dev/shm, or gone), so that the caller fetches over TCP instead.
    /// </summary>
    public static SharedSegment? TryOpen(string path)
    {
        if (!Available || System.IO.Path.GetDirectoryName(path) != Folder
            || !System.IO.Path.GetFileName(path).StartsWith($"plastic-lane-{HostBoot}-", StringComparison.Ordinal))
            return null;
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            return new SharedSegment(path, MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false), owned: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Unmaps the segment; its maker also removes the file (processes that mapped it keep their view).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
        if (_owned)
        {
            AppDomain.CurrentDomain.ProcessExit -= RemoveFile;
            RemoveFile(null, EventArgs.Empty);
        }
    }

    private void RemoveFile(object? sender, EventArgs e)
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // Gone already (a tidy-up of /dev/shm): nothing left to remove.
        }
    }
}
