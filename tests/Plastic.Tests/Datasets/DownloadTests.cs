using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Plastic.Datasets.Fetch;

namespace Plastic.Tests.Datasets;

/// <summary>The fetcher against a small HTTP server on 127.0.0.1: success, a corrupt file refused with nothing left, an interrupted download resumed.</summary>
public sealed class DownloadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("plastic-fetch-").FullName;
    private readonly byte[] _content = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 31 % 256)).ToArray();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Serves _content with Range support; the first <paramref name="cutFirstAfter"/> bytes of the first request, then the connection is dropped.</summary>
    private (Uri Url, HttpListener Server, Task Serving, List<string?> Ranges) Serve(int? cutFirstAfter = null)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var server = new HttpListener();
        server.Prefixes.Add($"http://127.0.0.1:{port}/");
        server.Start();
        var ranges = new List<string?>();
        var serving = Task.Run(async () =>
        {
            for (int request = 0; server.IsListening; request++)
            {
                HttpListenerContext context;
                try { context = await server.GetContextAsync(); } catch { return; }
                string? range = context.Request.Headers["Range"];
                lock (ranges) ranges.Add(range);
                int start = range is null ? 0 : int.Parse(range["bytes=".Length..].TrimEnd('-'));
                var response = context.Response;
                if (start > 0) { response.StatusCode = 206; response.AddHeader("Content-Range", $"bytes {start}-{_content.Length - 1}/{_content.Length}"); }
                response.ContentLength64 = _content.Length - start;
                int send = request == 0 && cutFirstAfter is { } cut ? cut : _content.Length - start;
                try
                {
                    await response.OutputStream.WriteAsync(_content.AsMemory(start, send));
                    await response.OutputStream.FlushAsync();
                    if (send < _content.Length - start) { response.Abort(); continue; }
                    response.Close();
                }
                catch (HttpListenerException) { }
            }
        });
        return (new Uri($"http://127.0.0.1:{port}/data.bin"), server, serving, ranges);
    }

    private ExpectedFile Right => new(Sha256: Convert.ToHexStringLower(SHA256.HashData(_content)), Bytes: _content.Length);

    [Fact]
    public async Task A_download_is_verified_and_then_renamed_into_place()
    {
        var (url, server, _, _) = Serve();
        using var _ = server;
        string target = Path.Combine(_dir, "ok", "data.bin");
        using var http = new HttpClient();
        long reported = 0;
        await Download.FileAsync(http, url, target, Right, (done, _) => reported = done);
        Assert.Equal(_content, File.ReadAllBytes(target));
        Assert.Equal(_content.Length, reported);
        Assert.False(File.Exists(target + ".partial"));
    }

    [Fact]
    public async Task A_checksum_mismatch_is_refused_and_leaves_nothing_behind_nor_touches_an_existing_file()
    {
        var (url, server, _, _) = Serve();
        using var _ = server;
        string target = Path.Combine(_dir, "data.bin");
        File.WriteAllText(target, "the old good copy");
        using var http = new HttpClient();
        var e = await Assert.ThrowsAsync<DownloadException>(() => Download.FileAsync(http, url, target, new ExpectedFile(Sha256: new string('a', 64))));
        Assert.Contains("expected aaaa", e.Message);
        Assert.Contains("nothing was written", e.Message);
        Assert.Equal("the old good copy", File.ReadAllText(target));
        Assert.False(File.Exists(target + ".partial"));
    }

    [Fact]
    public async Task An_interrupted_download_resumes_from_where_it_stopped()
    {
        var (url, server, _, ranges) = Serve(cutFirstAfter: 120_000);
        using var _ = server;
        string target = Path.Combine(_dir, "data.bin");
        using var http = new HttpClient();
        await Assert.ThrowsAnyAsync<Exception>(() => Download.FileAsync(http, url, target, Right));
        Assert.False(File.Exists(target));
        long kept = new FileInfo(target + ".partial").Length;
        Assert.InRange(kept, 1, _content.Length - 1);

        await Download.FileAsync(http, url, target, Right);
        Assert.Equal(_content, File.ReadAllBytes(target));
        Assert.Equal($"bytes={kept}-", ranges[^1]);
    }
}
