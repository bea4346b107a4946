using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace Plastic.Compute.Ilgpu;

/// <summary>
/// One ILGPU context and accelerator for one device, with every kernel loaded once, shared by every
/// backend placed on that device in this process (a network's layers each hold a backend, so that each
/// keeps its own tensor tally, but they all run on this one accelerator). Creating a context and loading
/// the kernels costs seconds, and a GPU has one default stream anyway: a context per layer only multiplied
/// both. ILGPU accelerators are not thread safe, so <see cref="Gate"/> is the device's one owner: every
/// backend on it holds the gate for each call. Leased by <see cref="Lease"/>; the last release disposes it.
/// </summary>
internal sealed class IlgpuDevice
{
    private static readonly Lock Registry = new();
    private static readonly Dictionary<string, IlgpuDevice> Open = [];
    private int _leases;

    private IlgpuDevice(string name, Context context, Accelerator accelerator, bool? cublas)
    {
        Name = name;
        Context = context;
        Accelerator = accelerator;
        Kernels = new IlgpuKernelSet(accelerator);
        Pool = new IlgpuBufferPool(accelerator);
        CudaGemm = Ilgpu.CudaGemm.For(accelerator, cublas);
    }

    public string Name { get; }
    public Context Context { get; }
    public Accelerator Accelerator { get; }
    public IlgpuKernelSet Kernels { get; }
    /// <summary>Buffers of released tensors and scratch, kept for reuse (used under <see cref="Gate"/>).</summary>
    public IlgpuBufferPool Pool { get; }
    /// <summary>cuBLAS for GEMM on a CUDA device (unless PLASTIC_CUBLAS=0); null: ILGPU's tiled kernel.</summary>
    public CudaGemm? CudaGemm { get; }
    /// <summary>False once the last lease has closed the accelerator (read under <see cref="Gate"/>).</summary>
    public bool IsOpen { get; private set; } = true;
    /// <summary>Held by every call on the accelerator, whichever backend makes it.</summary>
    public Lock Gate { get; } = new();

    /// <summary>The open device of kind cuda, opencl or ilgpu-cpu, opened (and its kernels loaded) by the first lease.</summary>
    public static IlgpuDevice Lease(string name)
    {
        lock (Registry)
        {
            if (!Open.TryGetValue(name, out var device))
            {
                device = OpenDevice(name);
                Open[name] = device;
            }
            device._leases++;
            return device;
        }
    }

    /// <summary>Gives a lease back; the last one closes the accelerator and the context.</summary>
    public void Release()
    {
        lock (Registry)
        {
            if (--_leases > 0) return;
            Open.Remove(Name);
            lock (Gate)
            {
                IsOpen = false;
                Accelerator.Bind();
                Pool.Drain();
                CudaGemm?.Dispose();
                Accelerator.Dispose();
                Context.Dispose();
            }
        }
    }

    private static IlgpuDevice OpenDevice(string name)
    {
        CudaLibraries.Install();
        var cublas = Ilgpu.CudaGemm.Setting();
        // The CPU emulator is set up like an NVIDIA device (warps of 32, large groups) so that the
        // explicitly grouped kernels run there with the group sizes they use on a GPU.
        var context = name == "ilgpu-cpu"
            ? Context.Create(b => b.CPU(CPUDeviceKind.Nvidia).EnableAlgorithms())
            : Context.Create(b => b.AllAccelerators().EnableAlgorithms());
        try
        {
            var device = IlgpuDevices.Find(context, name);
            return new IlgpuDevice(name, context, device.CreateAccelerator(context), cublas);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }
}
