using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;

namespace Plastic.Compute.Ilgpu;

/// <summary>Which ILGPU devices this machine has, in the order auto prefers them.</summary>
internal static class IlgpuDevices
{
    public static IReadOnlyList<DeviceEntry> Discover()
    {
        var found = new List<DeviceEntry>();
        CudaLibraries.Install();
        try
        {
            using var context = Context.Create(b => b.AllAccelerators());
            foreach (var device in context.GetCudaDevicesSafe())
                found.Add(new DeviceEntry("cuda", $"ILGPU CUDA: {device.Name}, {device.MemorySize / (1 << 20)} MiB", true));
            foreach (var device in context.Devices.OfType<CLDevice>().Where(d => d.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU))
                found.Add(new DeviceEntry("opencl", $"ILGPU OpenCL: {device.Name} ({device.PlatformName})", true));
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException)
        {
            // A broken GPU runtime must not hide the CPU backends; the GPU simply is not offered.
        }
        found.Add(new DeviceEntry("ilgpu-cpu", "ILGPU CPU accelerator: an emulator for checking kernels, not a compute path", false));
        return found;
    }

    private static IEnumerable<Device> GetCudaDevicesSafe(this Context context) =>
        context.Devices.Where(d => d.AcceleratorType == AcceleratorType.Cuda);

    /// <summary>The first device of the requested kind.</summary>
    public static Device Find(Context context, string name) => name switch
    {
        "cuda" => context.Devices.First(d => d.AcceleratorType == AcceleratorType.Cuda),
        "opencl" => context.Devices.OfType<CLDevice>().First(d => d.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU),
        "ilgpu-cpu" => context.Devices.First(d => d.AcceleratorType == AcceleratorType.CPU),
        _ => throw new ArgumentException($"'{name}' is not an ILGPU device name."),
    };
}
