using BenchmarkDotNet.Attributes;
using Plastic.Compute;
using Plastic.Compute.Cpu;

namespace Plastic.Benchmarks;

/// <summary>CPU GEMM per SIMD width; compare with `plastic bench kernels` for the peer ratios.</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private CpuBackend _backend = null!;
    private Tensor _a = null!, _b = null!, _c = null!;

    [Params(512, 256)] public int SimdWidth { get; set; }
    [Params(1024)] public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _backend = new CpuBackend(simdWidthBits: SimdWidth);
        _a = _backend.Allocate(new Shape(Size, Size));
        _b = _backend.Allocate(new Shape(Size, Size));
        _c = _backend.Allocate(new Shape(Size, Size));
        _backend.FillNormal(_a, new RandomStream(1, 1), 0, 1);
        _backend.FillNormal(_b, new RandomStream(1, 2), 0, 1);
    }

    [Benchmark] public void Gemm() => _backend.Gemm(_a, false, _b, false, _c);
    [Benchmark] public void GemmTransposedB() => _backend.Gemm(_a, false, _b, true, _c);

    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();
}

/// <summary>The 64x32x32x32 -> 64 3x3 convolution of the issue, forward and both backward passes.</summary>
[MemoryDiagnoser]
public class ConvBenchmarks
{
    private readonly ConvGeometry _g = new(3, 1, 1);
    private CpuBackend _backend = null!;
    private Tensor _x = null!, _w = null!, _y = null!, _dx = null!, _dw = null!;

    [GlobalSetup]
    public void Setup()
    {
        _backend = new CpuBackend();
        _x = _backend.Allocate(new Shape(64, 32, 32, 32));
        _w = _backend.Allocate(new Shape(64, 32, 3, 3));
        _y = _backend.Allocate(new Shape(64, 64, 32, 32));
        _dx = _backend.Allocate(_x.Shape);
        _dw = _backend.Allocate(_w.Shape);
        _backend.FillNormal(_x, new RandomStream(1, 1), 0, 1);
        _backend.FillNormal(_w, new RandomStream(1, 2), 0, 1);
        _backend.FillNormal(_y, new RandomStream(1, 3), 0, 1);
    }

    [Benchmark] public void Forward() => _backend.Conv2dForward(_x, _w, null, _y, _g);
    [Benchmark] public void BackwardInput() => _backend.Conv2dBackwardInput(_y, _w, _dx, _g);
    [Benchmark] public void BackwardWeight() => _backend.Conv2dBackwardWeight(_x, _y, _dw, null, _g);

    [GlobalCleanup]
    public void Cleanup() => _backend.Dispose();
}
