using Plastic.Compute;
using Plastic.Compute.Cpu;

namespace Plastic.Tests.Compute;

public sealed class BackendCatalogTests
{
    [Fact]
    public void Cpu_is_always_listed_and_auto_never_picks_the_emulator()
    {
        var devices = BackendCatalog.Discover();
        Assert.Contains(devices, d => d.Name == "cpu");
        Assert.Contains(devices, d => d.Name == "ilgpu-cpu");
        Assert.NotEqual("ilgpu-cpu", BackendCatalog.AutoChoice(devices));
        Assert.Equal("cpu", BackendCatalog.AutoChoice([new DeviceEntry("cpu", "", false), new DeviceEntry("ilgpu-cpu", "", false)]));
        Assert.Equal("cuda", BackendCatalog.AutoChoice([new DeviceEntry("opencl", "", true), new DeviceEntry("cuda", "", true), new DeviceEntry("cpu", "", false)]));
    }

    [Fact]
    public void Unknown_device_names_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => BackendCatalog.Create("tpu"));
        Assert.Contains("'tpu'", e.Message);
        Assert.Contains("cuda", e.Message);
        Assert.Contains("cpu", e.Message);
    }

    [SkippableFact]
    public void Missing_gpu_request_lists_what_exists()
    {
        Skip.If(BackendCatalog.Discover().Any(d => d.Name == "cuda"), "this machine has a CUDA device");
        var e = Assert.Throws<ArgumentException>(() => BackendCatalog.Create("cuda"));
        Assert.Contains("not available", e.Message);
        Assert.Contains("cpu", e.Message);
        Assert.Contains("ilgpu-cpu", e.Message);
    }

    [Fact]
    public void Cpu_request_and_thread_setting_are_honoured()
    {
        using var backend = BackendCatalog.Create("cpu", cpuThreads: 1);
        var cpu = Assert.IsType<CpuBackend>(backend);
        Assert.Equal(1, cpu.Threads);
    }

    [Fact]
    public void Unavailable_simd_width_is_refused_with_the_available_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => new CpuBackend(simdWidthBits: 64));
        Assert.Contains("128", e.Message);
    }
}
