using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Plastic.Datasets.Fetch;

/// <summary>What a download must be: its SHA-256 (or MD5 where only that is published) and, when known, its size.</summary>
public sealed record ExpectedFile(string? Sha256 = null, string? Md5 = null, long? Bytes = null);

/// <summary>A download that did not give the expected file; nothing was left at the destination.</summary>
public sealed class DownloadException(string message) : Exception(message);

/// <summary>
/// Downloads one file safely: into destination.partial, resuming it with an HTTP Range request when a
/// previous attempt left one (restarting when the server ignores the range), then the checksum of the
/// whole file, and only then an atomic rename onto the destination. A mismatch deletes the partial file:
/// an interrupted or corrupt download never leaves a half-written data set.
/// </summary>
public static class Download
{
    public static async Task FileAsync(HttpClient http, Uri url, string destination, ExpectedFile expected,
        Action<long, long?>? progress = null, CancellationToken cancel = default)
    {
        string partial = destination + ".partial";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
        {
            have = 0;   // the partial file is longer than the resource: start again
            File.Delete(partial);
            await FileAsync(http, url, destination, expected, progress, cancel).ConfigureAwait(false);
            return;
        }
        if (!response.IsSuccessStatusCode) throw new DownloadException($"{url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.");
        bool resumed = have > 0 && response.StatusCode == HttpStatusCode.PartialContent;
        if (!resumed) have = 0;
        long? total = response.Content.Headers.ContentLength is { } length ? length + have : expected.Bytes;
        await using (var output = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write))
        await using (var input = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false))
        {
            var buffer = new byte[1 << 16];
            int read;
            long done = have, lastReport = 0;
            while ((read = await input.ReadAsync(buffer, cancel).ConfigureAwait(false)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancel).ConfigureAwait(false);
                done += read;
                if (progress is not null && done - lastReport >= 1 << 22) { progress(done, total); lastReport = done; }
            }
            progress?.Invoke(done, total);
        }
        Check(partial, url, expected);
        File.Move(partial, destination, overwrite: true);
    }

    /// <summary>Size and checksum of a finished download; on a mismatch the partial file is removed and the error names both sums.</summary>
    public static void Check(string path, Uri url, ExpectedFile expected)
    {
        long length = new FileInfo(path).Length;
        string? problem = null;
        if (expected.Bytes is { } bytes && length != bytes)
            problem = $"{length:N0} bytes, expected {bytes:N0}";
        else if (expected.Sha256 is { } sha)
        {
            string actual = Convert.ToHexStringLower(HashFile(path, SHA256.Create()));
            if (actual != sha) problem = $"sha256 {actual}, expected {sha}";
        }
        else if (expected.Md5 is { } md5)
        {
            string actual = Convert.ToHexStringLower(HashFile(path, MD5.Create()));
            if (actual != md5) problem = $"md5 {actual}, expected {md5}";
        }
        if (problem is null) return;
        File.Delete(path);
        throw new DownloadException($"{url}: the download does not match ({problem}); it was deleted and nothing was written.");
    }

    private static byte[] HashFile(string path, HashAlgorithm algorithm)
    {
        using (algorithm)
        using (var stream = File.OpenRead(path))
            return algorithm.ComputeHash(stream);
    }
}
