using Plastic.Compute;

namespace Plastic.Cli.Bench;

/// <summary>One timed operation: its name, its shape as text, its flop count, and how to run it once.</summary>
public sealed record KernelCase(string Name, string Shape, double Flops, Action Run, string? ForwardOf = null);

/// <summary>The shapes `plastic bench kernels` measures; the peer script uses the same list (see peers.py).</summary>
public static class KernelCases
{
    /// <summary>The paper's VGG-6 3x3 convolutions on CIFAR-10 (32x32 input), batch 32, full width.</summary>
    public static readonly (string Layer, int Cin, int Cout, int Size)[] Vgg6Cifar =
    [
        ("vgg6-l1", 3, 128, 32), ("vgg6-l2", 128, 256, 32), ("vgg6-l3", 256, 256, 16),
        ("vgg6-l4", 256, 512, 16), ("vgg6-l5", 512, 1024, 8), ("vgg6-l6", 1024, 1024, 4),
    ];

    /// <param name="width">Width multiplier of the VGG-6 layers (0.125: the reduced-scale experiments' net).</param>
    /// <param name="batch">Images per VGG-6 layer case (32: one view of the paper's batch; 64: both views).</param>
    public static List<KernelCase> Create(IComputeBackend b, bool includePaperLayers, List<IDisposable> owned, double width = 1.0, int batch = 32)
    {
        var cases = new List<KernelCase>();
        AddGemm(b, cases, owned, 1024, 1024, 1024);
        AddGemm(b, cases, owned, 256, 1024, 1152);
        AddConv(b, cases, owned, "conv3x3", 64, 32, 64, 32);
        if (includePaperLayers)
            foreach (var (layer, cin, cout, size) in Vgg6Cifar)
                AddConv(b, cases, owned, layer, batch, cin == 3 ? 3 : Math.Max(1, (int)Math.Round(cin * width)), Math.Max(1, (int)Math.Round(cout * width)), size);
        return cases;
    }

    private static Tensor Random(IComputeBackend b, List<IDisposable> owned, ulong stream, params int[] dims)
    {
        var t = b.Allocate(new Shape(dims));
        b.FillNormal(t, new RandomStream(7, stream), 0f, 1f);
        owned.Add(t);
        return t;
    }

    private static void AddGemm(IComputeBackend b, List<KernelCase> cases, List<IDisposable> owned, int m, int n, int k)
    {
        var x = Random(b, owned, 1, m, k); var y = Random(b, owned, 2, k, n); var z = Random(b, owned, 3, m, n);
        cases.Add(new KernelCase("gemm", $"m{m} n{n} k{k}", 2.0 * m * n * k, () => b.Gemm(x, false, y, false, z)));
    }

    private static void AddConv(IComputeBackend b, List<KernelCase> cases, List<IDisposable> owned, string name, int n, int cin, int cout, int size)
    {
        var g = new ConvGeometry(3, 1, 1);
        var x = Random(b, owned, 4, n, cin, size, size); var w = Random(b, owned, 5, cout, cin, 3, 3);
        var y = Random(b, owned, 6, n, cout, size, size); var dx = Random(b, owned, 7, n, cin, size, size); var dw = Random(b, owned, 8, cout, cin, 3, 3);
        double flops = 2.0 * n * cout * size * size * cin * 9;
        string shape = $"{n}x{cin}x{size}x{size}->{cout}";
        cases.Add(new KernelCase($"{name} fwd", shape, flops, () => b.Conv2dForward(x, w, null, y, g)));
        cases.Add(new KernelCase($"{name} bwd-input", shape, flops, () => b.Conv2dBackwardInput(y, w, dx, g), $"{name} fwd"));
        cases.Add(new KernelCase($"{name} bwd-weight", shape, flops, () => b.Conv2dBackwardWeight(x, y, dw, null, g), $"{name} fwd"));
    }
}
