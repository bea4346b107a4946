using System.IO.Compression;
using System.Text;

namespace Plastic.Tests.Cli;

/// <summary>The run folder a bad-input case starts from: none ({O} does not exist), a finished run, or a run killed after its checkpoints.</summary>
public enum BadInputFolder
{
    None,
    Finished,
    Killed,
}

/// <summary>
/// One bad input of the corpus: a command (tokens split on spaces; {F} is the case's first file, {D} its
/// folder, {O} the output or run folder), the files it is given, environment variables, the folder it starts
/// from, and what its one line must say (with the same placeholders).
/// </summary>
public sealed record BadInput(string Name, string Command, string Expected)
{
    public IReadOnlyDictionary<string, byte[]> Files { get; init; } = new Dictionary<string, byte[]>();
    /// <summary>Files of the run folder ("O/...") removed before the command.</summary>
    public IReadOnlyList<string> Removed { get; init; } = [];
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public BadInputFolder Folder { get; init; }

    public override string ToString() => Name;

    public static IReadOnlyDictionary<string, byte[]> File(string name, string text) => new Dictionary<string, byte[]> { [name] = Encoding.UTF8.GetBytes(text) };

    public static IReadOnlyDictionary<string, byte[]> File(string name, byte[] bytes) => new Dictionary<string, byte[]> { [name] = bytes };

    /// <summary>An IDX file (MNIST's format): magic 0x0000 08 rank, the sizes big-endian, then the bytes.</summary>
    public static byte[] Idx(int[] dims, byte[] data)
    {
        var bytes = new List<byte> { 0, 0, 0x08, (byte)dims.Length };
        foreach (int d in dims) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return [.. bytes];
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest)) gzip.Write(bytes);
        return memory.ToArray();
    }

    /// <summary>An MNIST training split of <paramref name="labels"/>.Length images (all black) under mnist/, with its labels.</summary>
    public static IReadOnlyDictionary<string, byte[]> Mnist(byte[] labels, int images = -1) => new Dictionary<string, byte[]>
    {
        ["mnist/train-images-idx3-ubyte.gz"] = Gzip(Idx([images < 0 ? labels.Length : images, 28, 28], new byte[(images < 0 ? labels.Length : images) * 784])),
        ["mnist/train-labels-idx1-ubyte.gz"] = Gzip(Idx([labels.Length], labels)),
    };
}
