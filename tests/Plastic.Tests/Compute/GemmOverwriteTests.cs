using Plastic.Compute.Cpu.Gemm;
using Plastic.Tests.Support;

namespace Plastic.Tests.Compute;

/// <summary>
/// A GEMM that writes C instead of adding to it (its first K block stores its tiles: the Winograd forward's M) must
/// give, bit for bit, what adding to a cleared C gives, whatever C held before: full tiles, the narrow kernels of a
/// row's last tile, edge tiles, several K blocks, and products of exact zeros with negative factors (a -0 stored where
/// 0 + -0 would give +0 would differ).
/// </summary>
public sealed unsafe class GemmOverwriteTests
{
    public static TheoryData<string, int, int, int> Cases()
    {
        var cases = new TheoryData<string, int, int, int>();
        foreach (var kernel in new[] { MicroKernel.Avx512, MicroKernel.Avx2, MicroKernel.Vector128 })
        {
            cases.Add(kernel.Name, 16, 96, 32);   // whole tiles
            cases.Add(kernel.Name, 13, 80, 17);   // edge rows, a narrow last tile, an odd K
            cases.Add(kernel.Name, 8, 37, 900);   // edge columns, three K blocks
        }
        return cases;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void Writing_C_gives_the_bits_of_adding_to_a_cleared_C(string kernelName, int m, int n, int k)
    {
        var kernel = new[] { MicroKernel.Avx512, MicroKernel.Avx2, MicroKernel.Vector128 }.Single(x => x.Name == kernelName);
        Skip.IfNot(IsSupported(kernel), $"this CPU cannot run {kernelName}");
        var a = TestData.Normal(m * k, 41);
        var b = TestData.Normal(k * n, 42);
        for (int i = 0; i < a.Length; i += 7) a[i] = 0f; // zero products, some of them -0 (a zero times a negative value)
        for (int i = 3; i < b.Length; i += 11) b[i] = -0f;
        for (int i = 0; i < k; i++) b[i * n] = 0f;        // a column of C that is a sum of zeros only
        var cleared = new float[m * n];
        var written = Enumerable.Repeat(float.NaN, m * n).ToArray(); // what C held must not show through
        var engine = new GemmEngine(kernel);
        fixed (float* pa = a, pb = b, pc = cleared, pw = written)
        {
            engine.Multiply(0, m, 0, n, k, new StridedMatrix(pa, k, 1), new StridedMatrix(pb, n, 1), pc, n);
            engine.Multiply(0, m, 0, n, k, new StridedMatrix(pa, k, 1), new StridedMatrix(pb, n, 1), pw, n, overwrite: true);
        }
        Tolerance.AssertBitIdentical(cleared, written, $"{kernelName} {m}x{n}x{k}");
        Assert.Contains(cleared, v => v == 0f);
    }

    private static bool IsSupported(MicroKernel kernel)
    {
        try
        {
            return MicroKernel.Select(kernel == MicroKernel.Avx512 ? 512 : kernel == MicroKernel.Avx2 ? 256 : 128) == kernel;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
