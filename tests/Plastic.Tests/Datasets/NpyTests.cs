using System.Diagnostics;
using System.Text;
using Plastic.Datasets.Numpy;

namespace Plastic.Tests.Datasets;

/// <summary>.npy / .npz round trips, the errors for what is not read, and (where NumPy is installed) NumPy reading our files and we reading its.</summary>
public sealed class NpyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("plastic-npy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_write_that_fails_half_way_leaves_the_old_file_and_no_partial_one()
    {
        string path = Path.Combine(_dir, "w.npz");
        Npy.WriteNpz(path, [("a", NpyArray.Of([1f], 1))]);
        var before = File.ReadAllBytes(path);
        static IEnumerable<(string, NpyArray)> FailingHalfWay()
        {
            yield return ("a", NpyArray.Of([2f, 3f], 2));
            throw new IOException("No space left on device");
        }
        Assert.Throws<IOException>(() => Npy.WriteNpz(path, FailingHalfWay()));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public void Arrays_round_trip_through_npy_and_npz()
    {
        var a = NpyArray.Of([1.5f, -2f, 3f, float.Epsilon, 0f, 7f], 2, 3);
        var b = NpyArray.Of([4f], 1);
        string path = Path.Combine(_dir, "x.npz");
        Npy.WriteNpz(path, [("a", a), ("layer/b", b)]);
        var back = Npy.ReadNpz(path);
        Assert.Equal([2, 3], back["a"].Shape);
        Assert.Equal(a.Values, back["a"].Values);
        Assert.Equal([1], back["layer/b"].Shape);
        Assert.False(File.Exists(path + ".partial"));
        Assert.Contains("needs 6 values", Assert.Throws<ArgumentException>(() => NpyArray.Of([1f], 2, 3)).Message);
    }

    [Fact]
    public void The_same_arrays_give_the_same_npz_bytes_whenever_they_are_written()
    {
        (string, NpyArray)[] arrays = [("W1", NpyArray.Of([1f, 2f, 3f, 4f, 5f, 6f], 2, 3)), ("block1.bias", NpyArray.Of([0.5f], 1))];
        string first = Path.Combine(_dir, "first.npz"), second = Path.Combine(_dir, "second.npz");
        Npy.WriteNpz(first, arrays);
        // A zip entry's time has a resolution of 2 seconds: a clock-stamped writer would differ after this pause.
        Thread.Sleep(2100);
        Npy.WriteNpz(second, arrays);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        using var zip = System.IO.Compression.ZipFile.OpenRead(second);
        Assert.Equal(["W1.npy", "block1.bias.npy"], zip.Entries.Select(e => e.FullName));
        Assert.All(zip.Entries, e => Assert.Equal(new DateTime(1980, 1, 1, 0, 0, 0), e.LastWriteTime.DateTime));
    }

    [Fact]
    public void A_file_that_is_not_an_npz_and_a_damaged_entry_are_named()
    {
        string text = Path.Combine(_dir, "text.npz");
        File.WriteAllText(text, "not a zip");
        Assert.Contains($"{text}: not an .npz (a zip of .npy files)", Assert.Throws<InvalidDataException>(() => Npy.ReadNpz(text)).Message);
        string junk = Path.Combine(_dir, "junk.npz");
        using (var zip = System.IO.Compression.ZipFile.Open(junk, System.IO.Compression.ZipArchiveMode.Create))
        using (var entry = zip.CreateEntry("W1.npy").Open())
            entry.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 200]);
        Assert.Contains($"{junk}:W1.npy: not a readable .npy array", Assert.Throws<InvalidDataException>(() => Npy.ReadNpz(junk)).Message);
        Assert.Throws<FileNotFoundException>(() => Npy.ReadNpz(Path.Combine(_dir, "none.npz")));
    }

    [Fact]
    public void Float64_is_read_and_other_dtypes_bad_magic_and_truncation_are_named()
    {
        string F64(string descr, int count, int dataBytes)
        {
            string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({count},), }}";
            header += new string(' ', 63 - (10 + header.Length) % 64) + "\n";
            var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 };
            bytes.AddRange(Encoding.ASCII.GetBytes(header));
            for (int i = 0; i < dataBytes / 8; i++) bytes.AddRange(BitConverter.GetBytes(i + 0.25));
            string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".npy");
            File.WriteAllBytes(path, [.. bytes]);
            return path;
        }
        Assert.Equal([0.25f, 1.25f, 2.25f], Npy.ReadFile(F64("<f8", 3, 24)).Values);
        Assert.Contains("dtype '<i8'", Assert.Throws<InvalidDataException>(() => Npy.ReadFile(F64("<i8", 3, 24))).Message);
        Assert.Contains("truncated: 16 of 24", Assert.Throws<InvalidDataException>(() => Npy.ReadFile(F64("<f8", 3, 16))).Message);
        string junk = Path.Combine(_dir, "junk.npy");
        File.WriteAllBytes(junk, [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => Npy.ReadFile(junk)).Message);
    }

    [SkippableFact]
    public void NumPy_reads_our_npz_and_we_read_its_npy()
    {
        Skip.IfNot(Python("import numpy") == 0, "python3 (or $PLASTIC_PYTHON) with numpy is not installed (an optional peer)");
        string ours = Path.Combine(_dir, "ours.npz"), theirs = Path.Combine(_dir, "theirs.npy");
        Npy.WriteNpz(ours, [("w", NpyArray.Of([1f, 2f, 3f, 4f, 5f, 6f], 3, 2))]);
        string script = $"import numpy as np; d = np.load(r'{ours}'); assert d['w'].shape == (3, 2) and d['w'].dtype == np.float32 and d['w'][2, 1] == 6; " +
                        $"np.save(r'{theirs}', np.arange(12, dtype=np.float64).reshape(2, 3, 2))";
        Assert.Equal(0, Python(script));
        var back = Npy.ReadFile(theirs);
        Assert.Equal([2, 3, 2], back.Shape);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), back.Values);
    }

    private static int Python(string code) => Plastic.Tests.Support.PythonPeer.Run("-c", code).Exit;
}
