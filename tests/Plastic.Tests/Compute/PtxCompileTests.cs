using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Plastic.Compute.Ilgpu;

namespace Plastic.Tests.Compute;

/// <summary>
/// Every ILGPU kernel compiles to PTX for the GPUs Plastic targets, with no GPU present. This is the
/// CI stand-in for running the kernels on CUDA: a kernel that uses something PTX cannot express fails here.
/// </summary>
public sealed class PtxCompileTests
{
    public static TheoryData<string> KernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var m in Kernels()) data.Add(m.Name);
        return data;
    }

    /// <summary>Every public static method of IlgpuKernels is a kernel; helpers are private.</summary>
    private static IEnumerable<MethodInfo> Kernels() =>
        typeof(IlgpuKernels).GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly);

    private static bool ImplicitlyGrouped(MethodInfo m) =>
        m.GetParameters().FirstOrDefault()?.ParameterType is { } t && (t == typeof(Index1D) || t == typeof(Index2D));

    [Fact]
    public void Every_kernel_is_covered()
    {
        // The kernel set loads exactly the kernels that are compiled here.
        int loaded = typeof(IlgpuKernelSet).GetFields().Length;
        Assert.Equal(loaded, Kernels().Count());
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void Kernel_compiles_to_ptx_for_hopper(string name)
    {
        var method = Kernels().Single(m => m.Name == name);
        using var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        var entry = ImplicitlyGrouped(method)
            ? EntryPointDescription.FromImplicitlyGroupedKernel(method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        Assert.Contains($".visible .entry Kernel_{name}(", compiled.PTXAssembly);
        // ILGPU 1.5.3 emits sm_80 code for an sm_90 request (PTX ISA 8.0); the driver JITs it for Hopper.
        Assert.Matches(@"\.target sm_(80|90)", compiled.PTXAssembly);
    }
}
