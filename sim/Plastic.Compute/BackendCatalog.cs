using Plastic.Compute.Cpu;

namespace Plastic.Compute;

/// <summary>A backend this machine offers, as listed by <c>plastic devices</c>.</summary>
public sealed record DeviceEntry(string Name, string Description, bool IsGpu);

/// <summary>
/// Finds the backends this machine has and creates the one asked for. "auto" picks a CUDA GPU, then
/// an OpenCL GPU, then the SIMD CPU backend. The ILGPU CPU accelerator is an emulator for checking
/// kernels: it is listed, and can be asked for, but auto never picks it.
/// </summary>
public static class BackendCatalog
{
    public const string DeviceVariable = "PLASTIC_DEVICE";
    public static readonly string[] Requests = ["auto", "cpu", "cuda", "opencl", "ilgpu-cpu"];

    /// <summary>
    /// The backends of this machine, GPUs first. Looked for once per process: each look creates an ILGPU
    /// context over every accelerator, and with auto every layer's backend asked (a worker placing three
    /// layers made seven contexts before its first step); the devices do not change while a process runs.
    /// </summary>
    public static IReadOnlyList<DeviceEntry> Discover() => Found.Value;

    private static readonly Lazy<IReadOnlyList<DeviceEntry>> Found = new(Look);

    private static IReadOnlyList<DeviceEntry> Look()
    {
        var ilgpu = Ilgpu.IlgpuDevices.Discover();
        var found = new List<DeviceEntry>(ilgpu.Where(d => d.IsGpu));
        using (var cpu = new CpuBackend())
            found.Add(new DeviceEntry("cpu", $"SIMD CPU backend: {cpu.DeviceDescription}", false));
        found.AddRange(ilgpu.Where(d => !d.IsGpu));
        return found.AsReadOnly();
    }

    /// <summary>The name auto resolves to among <paramref name="devices"/>.</summary>
    public static string AutoChoice(IReadOnlyList<DeviceEntry> devices) =>
        devices.FirstOrDefault(d => d.Name == "cuda")?.Name
        ?? devices.FirstOrDefault(d => d.Name == "opencl")?.Name
        ?? "cpu";

    /// <summary>
    /// The device a request names (null or empty: $PLASTIC_DEVICE, then auto), checked with the CPU
    /// backend's environment variables before anything is created; an unknown name names where it came from.
    /// </summary>
    public static string Check(string? request)
    {
        bool fromEnvironment = string.IsNullOrWhiteSpace(request);
        string name = (fromEnvironment ? Environment.GetEnvironmentVariable(DeviceVariable) : request)?.Trim().ToLowerInvariant() ?? "auto";
        if (name.Length == 0) name = "auto";
        if (!Requests.Contains(name))
            throw new ArgumentException($"{(fromEnvironment ? DeviceVariable : "device")} '{name}': not a device; choose one of: {string.Join(", ", Requests)}.");
        CpuBackend.CheckEnvironment();
        return name;
    }

    /// <summary>
    /// Creates the backend named by <paramref name="request"/>; null or empty falls back to
    /// $PLASTIC_DEVICE, then auto. A request this machine cannot meet fails, listing what exists.
    /// </summary>
    public static IComputeBackend Create(string? request, int? cpuThreads = null)
    {
        string name = Check(request);
        if (name == "cpu") return new CpuBackend(cpuThreads);

        var devices = Discover();
        if (name == "auto") name = AutoChoice(devices);
        if (name == "cpu") return new CpuBackend(cpuThreads);
        if (devices.All(d => d.Name != name))
            throw new ArgumentException(
                $"Device '{name}' is not available on this machine. Available: {string.Join(", ", devices.Select(d => d.Name).Distinct())} (and auto).");
        return Ilgpu.IlgpuBackend.Create(name);
    }
}
