using Plastic.Compute;
using Plastic.Compute.Cpu;

namespace Plastic.Tests.Support;

/// <summary>One backend shared by all tests of a class (backends are costly to start: kernels load once).</summary>
public abstract class BackendFixture : IDisposable
{
    private readonly Lazy<IComputeBackend?> _backend;

    protected BackendFixture() => _backend = new Lazy<IComputeBackend?>(Create);

    /// <summary>Null when this machine has no such device: the tests of that class skip.</summary>
    public IComputeBackend? Backend => _backend.Value;
    public virtual string? MissingReason => null;
    /// <summary>Emulated backends get smaller problem sizes.</summary>
    public virtual bool Small => false;

    protected abstract IComputeBackend? Create();

    public void Dispose()
    {
        if (_backend.IsValueCreated) _backend.Value?.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class CpuFixture : BackendFixture
{
    protected override IComputeBackend Create() => new CpuBackend(threads: 2);
}

/// <summary>The same backend with one thread: partitioning must not change results beyond rounding.</summary>
public sealed class CpuSingleThreadFixture : BackendFixture
{
    protected override IComputeBackend Create() => new CpuBackend(threads: 1);
}

/// <summary>Winograd for every 3x3 stride-1 convolution, small channel counts included, so the contract covers it.</summary>
public sealed class CpuWinogradFixture : BackendFixture
{
    protected override IComputeBackend Create() => new CpuBackend(threads: 2, convolution: ConvolutionAlgorithm.Winograd);
}

/// <summary>Winograd on one thread and without AVX-512: the scalar tile transforms.</summary>
public sealed class CpuWinogradScalarFixture : BackendFixture
{
    protected override IComputeBackend Create() => new CpuBackend(threads: 1, simdWidthBits: 128, convolution: ConvolutionAlgorithm.Winograd);
}

/// <summary>The AVX2 micro-kernel, which machines without AVX-512 run.</summary>
public sealed class CpuAvx2Fixture : BackendFixture
{
    public override string? MissingReason => System.Runtime.Intrinsics.X86.Fma.IsSupported ? null : "this CPU has no AVX2/FMA";
    protected override IComputeBackend? Create() => MissingReason is null ? new CpuBackend(threads: 2, simdWidthBits: 256) : null;
}

/// <summary>The 128-bit micro-kernel, the portable fallback.</summary>
public sealed class CpuVector128Fixture : BackendFixture
{
    protected override IComputeBackend Create() => new CpuBackend(threads: 2, simdWidthBits: 128);
}

/// <summary>ILGPU kernels on ILGPU's CPU accelerator (an emulator): small sizes, runs everywhere.</summary>
public sealed class IlgpuCpuFixture : BackendFixture
{
    public override bool Small => true;
    protected override IComputeBackend Create() => Plastic.Compute.Ilgpu.IlgpuBackend.Create("ilgpu-cpu");
}

/// <summary>
/// ILGPU's convolutions as im2col and a GEMM (the path taken with cuBLAS on CUDA), on the CPU accelerator:
/// the layout kernels and the GEMM calls checked by the whole contract.
/// </summary>
public sealed class IlgpuCpuConvAsGemmFixture : BackendFixture
{
    public override bool Small => true;
    protected override IComputeBackend Create() => Plastic.Compute.Ilgpu.IlgpuBackend.Create("ilgpu-cpu", convolutionsAsGemm: true);
}

/// <summary>ILGPU kernels on a CUDA GPU; the tests skip where there is none.</summary>
public sealed class IlgpuCudaFixture : BackendFixture
{
    private static readonly bool HasCuda = BackendCatalog.Discover().Any(d => d.Name == "cuda");
    public override string? MissingReason => HasCuda ? null : "no CUDA device on this machine";
    protected override IComputeBackend? Create() => HasCuda ? Plastic.Compute.Ilgpu.IlgpuBackend.Create("cuda") : null;
}
