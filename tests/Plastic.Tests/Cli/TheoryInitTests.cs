using Plastic.Datasets.Numpy;

namespace Plastic.Tests.Cli;

/// <summary>
/// `plastic theory --init w.npz`: the weights of every layer checked by shape, and every bad file (missing,
/// not an .npz, a missing or damaged entry, a wrong shape with the right count) one line that names the
/// file, the entry and the shape expected, with exit code 2 and no stack trace.
/// </summary>
[Collection("Console")]
public sealed class TheoryInitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("plastic-theory-init-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int code, string output, string errors) Theory(string init) =>
        CliTests.Run("theory", "fig3a", "--synthetic", "--batches", "1", "--batch", "8", "--curve", "2", "--out", Path.Combine(_dir, "out"), "--json", "--init", init);

    private static void AssertOneLine(int code, string errors, params string[] parts)
    {
        Assert.Equal(2, code);
        Assert.Single(errors.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", errors);
        foreach (var part in parts) Assert.Contains(part, errors);
    }

    [Fact]
    public void Init_weights_are_checked_by_shape_and_bad_files_are_one_line_each()
    {
        // The curve's own weights, shaped as --dump writes them, are a good --init.
        string dump = Path.Combine(_dir, "g.npz");
        var first = CliTests.Run("theory", "fig3a", "--synthetic", "--batches", "1", "--batch", "8", "--curve", "2", "--out", Path.Combine(_dir, "out"), "--json", "--dump", dump);
        Assert.True(first.code == 0, first.errors);
        var weights = Npy.ReadNpz(dump).Where(a => a.Key.StartsWith("c1_W", StringComparison.Ordinal)).ToDictionary(a => a.Key[3..], a => a.Value);
        Assert.Equal(6, weights.Count);
        Assert.Equal([64, 128], weights["W2"].Shape);
        string good = Path.Combine(_dir, "good.npz");
        Npy.WriteNpz(good, weights.Select(w => (w.Key, w.Value)));
        var run = Theory(good);
        Assert.True(run.code == 0, run.errors);
        Assert.Equal(1.0, System.Text.Json.JsonDocument.Parse(run.output).RootElement.GetProperty("curves")[0].GetProperty("layers")[5].GetProperty("cosine").GetDouble(), 1e-6);

        string missing = Path.Combine(_dir, "nowhere.npz");
        var r = Theory(missing);
        AssertOneLine(r.code, r.errors, $"--init {missing}: no such file", "W1 of shape (128, 196)", "W2 of shape (64, 128)");

        string text = Path.Combine(_dir, "text.npz");
        File.WriteAllText(text, "W1 = 3");
        r = Theory(text);
        AssertOneLine(r.code, r.errors, $"--init {text}: not an .npz", "W1 of shape (128, 196)");

        string noW2 = Path.Combine(_dir, "no-w2.npz");
        Npy.WriteNpz(noW2, weights.Where(w => w.Key != "W2").Select(w => (w.Key, w.Value)));
        r = Theory(noW2);
        AssertOneLine(r.code, r.errors, $"--init {noW2}: no entry W2.npy; expected W2 of shape (64, 128)");

        // The right number of values in the wrong shape (the transpose) is refused too.
        string transposed = Path.Combine(_dir, "transposed.npz");
        Npy.WriteNpz(transposed, weights.Select(w => (w.Key, w.Key == "W2" ? NpyArray.Of(w.Value.Values, 128, 64) : w.Value)));
        r = Theory(transposed);
        AssertOneLine(r.code, r.errors, $"--init {transposed}: entry W2.npy has shape (128, 64); expected (64, 128)");

        string damaged = Path.Combine(_dir, "damaged.npz");
        using (var zip = System.IO.Compression.ZipFile.Open(damaged, System.IO.Compression.ZipArchiveMode.Create))
        using (var entry = zip.CreateEntry("W1.npy").Open())
            entry.Write("not numpy"u8);
        r = Theory(damaged);
        AssertOneLine(r.code, r.errors, $"--init {damaged}:W1.npy: not a .npy array", "W1 of shape (128, 196)");
    }
}
