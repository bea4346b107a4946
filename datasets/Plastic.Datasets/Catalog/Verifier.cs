using System.IO.Compression;
using System.Security.Cryptography;

namespace Plastic.Datasets.Catalog;

/// <summary>What was found for one catalogued file.</summary>
public enum FileState { Missing, Verified, SizeOnly, Mismatch }

/// <summary>One file's check: where it is, its state, the checksum computed and the one expected (or the sizes).</summary>
public sealed record FileCheck(DatasetFile File, string? Path, FileState State, string Detail);

/// <summary>Checks a data set's files against the catalogue: sizes, and checksums of the (decompressed) content.</summary>
public static class Verifier
{
    /// <summary>The file on disk: the raw name, or name.gz where the catalogue allows it; null when neither exists.</summary>
    public static string? Locate(string root, DatasetInfo set, DatasetFile file)
    {
        string raw = Path.Combine(root, set.Folder, file.Path);
        if (File.Exists(raw)) return raw;
        return file.MayBeGzipped && File.Exists(raw + ".gz") ? raw + ".gz" : null;
    }

    /// <summary>Whether each file is there (no hashing): fast, for listings.</summary>
    public static IReadOnlyList<FileCheck> Presence(string root, DatasetInfo set) =>
        set.Files.Select(f => Locate(root, set, f) is { } p ? new FileCheck(f, p, FileState.SizeOnly, "present") : new FileCheck(f, null, FileState.Missing, "missing")).ToList();

    public static IReadOnlyList<FileCheck> Verify(string root, DatasetInfo set) => set.Files.Select(f => Check(root, set, f)).ToList();

    private static FileCheck Check(string root, DatasetInfo set, DatasetFile file)
    {
        string? path = Locate(root, set, file);
        if (path is null) return new FileCheck(file, null, FileState.Missing, $"missing ({Path.Combine(set.Folder, file.Path)})");
        var (state, detail) = Inspect(path, file);
        return new FileCheck(file, path, state, detail);
    }

    /// <summary>The content of <paramref name="path"/> (decompressed when it ends in .gz) against the catalogue: size, then checksum.</summary>
    public static (FileState State, string Detail) Inspect(string path, DatasetFile file)
    {
        using var stream = Open(path);
        using var sha = SHA256.Create();
        using var md5 = MD5.Create();
        var buffer = new byte[1 << 20];
        long length = 0;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            length += read;
            if (file.Sha256 is not null) sha.TransformBlock(buffer, 0, read, null, 0);
            if (file.Md5 is not null) md5.TransformBlock(buffer, 0, read, null, 0);
        }
        sha.TransformFinalBlock([], 0, 0);
        md5.TransformFinalBlock([], 0, 0);
        if (file.Bytes is { } expected && length != expected)
            return (FileState.Mismatch, $"{length:N0} bytes of content, expected {expected:N0}");
        if (file.Sha256 is { } sum)
        {
            string actual = Convert.ToHexStringLower(sha.Hash!);
            return actual == sum ? (FileState.Verified, $"sha256 {actual}") : (FileState.Mismatch, $"sha256 {actual}, expected {sum}");
        }
        if (file.Md5 is { } md5sum)
        {
            string actual = Convert.ToHexStringLower(md5.Hash!);
            return actual == md5sum ? (FileState.Verified, $"md5 {actual}") : (FileState.Mismatch, $"md5 {actual}, expected {md5sum}");
        }
        return (FileState.SizeOnly, $"{length:N0} bytes (no published checksum for this file)");
    }

    private static Stream Open(string path)
    {
        var file = File.OpenRead(path);
        return path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
    }
}
