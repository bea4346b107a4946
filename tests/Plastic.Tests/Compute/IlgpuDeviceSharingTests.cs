using Plastic.Compute;
using Plastic.Compute.Ilgpu;

namespace Plastic.Tests.Compute;

/// <summary>
/// Every layer's ILGPU backend on one device shares one context, accelerator and kernel set (issue 19,
/// item 5), on ILGPU's CPU accelerator, which runs everywhere: each backend keeps its own tally, layers
/// may call from their own threads at once, and the device stays open until its last backend is disposed.
/// </summary>
public sealed class IlgpuDeviceSharingTests
{
    [Fact]
    public void Backends_on_one_device_share_its_context_accelerator_and_kernels()
    {
        using var a = IlgpuBackend.Create("ilgpu-cpu");
        using var b = (IlgpuBackend)BackendCatalog.Create("ilgpu-cpu");
        Assert.Same(a.Device, b.Device);
        Assert.Same(a.Device.Accelerator, b.Device.Accelerator);
        Assert.Same(a.Device.Kernels, b.Device.Kernels);
    }

    [Fact]
    public void Each_backend_on_a_shared_device_keeps_its_own_tensor_tally()
    {
        using var a = IlgpuBackend.Create("ilgpu-cpu");
        using var b = IlgpuBackend.Create("ilgpu-cpu");
        using var t = a.Allocate(new Shape(250));
        Assert.Equal(1000, a.LiveTensorBytes);
        Assert.Equal(0, b.LiveTensorBytes);
    }

    [Fact]
    public void Layers_on_one_device_compute_from_their_own_threads_at_once()
    {
        // Two "layers", each multiplying its own matrices 20 times on its own thread; every product must be
        // the one the reference gives, so no call saw the other layer's buffers or a half-bound accelerator.
        using var reference = new Plastic.Compute.Cpu.CpuBackend(threads: 1);
        var backends = new[] { IlgpuBackend.Create("ilgpu-cpu"), IlgpuBackend.Create("ilgpu-cpu") };
        try
        {
            var results = new float[2][];
            var expected = new float[2][];
            Parallel.For(0, 2, layer =>
            {
                var x = Enumerable.Range(0, 24 * 16).Select(i => (float)Math.Sin(i + 7 * layer)).ToArray();
                var w = Enumerable.Range(0, 16 * 8).Select(i => (float)Math.Cos(i * 0.3 + layer)).ToArray();
                var backend = backends[layer];
                using var a = backend.Upload(x, new Shape(24, 16));
                using var b = backend.Upload(w, new Shape(16, 8));
                using var c = backend.Allocate(new Shape(24, 8));
                for (int repeat = 0; repeat < 20; repeat++) backend.Gemm(a, false, b, false, c);
                results[layer] = c.ToArray();
            });
            for (int layer = 0; layer < 2; layer++)
            {
                var x = Enumerable.Range(0, 24 * 16).Select(i => (float)Math.Sin(i + 7 * layer)).ToArray();
                var w = Enumerable.Range(0, 16 * 8).Select(i => (float)Math.Cos(i * 0.3 + layer)).ToArray();
                using var a = reference.Upload(x, new Shape(24, 16));
                using var b = reference.Upload(w, new Shape(16, 8));
                using var c = reference.Allocate(new Shape(24, 8));
                reference.Gemm(a, false, b, false, c);
                expected[layer] = c.ToArray();
                for (int i = 0; i < expected[layer].Length; i++) Assert.Equal(expected[layer][i], results[layer][i], 4);
            }
        }
        finally
        {
            foreach (var backend in backends) backend.Dispose();
        }
    }

    [Fact]
    public void The_device_stays_open_until_its_last_backend_is_disposed()
    {
        var first = IlgpuBackend.Create("ilgpu-cpu");
        using var second = IlgpuBackend.Create("ilgpu-cpu");
        first.Dispose();
        first.Dispose(); // a second dispose gives no second lease back
        using var x = second.Upload([1f, 2f, 3f], new Shape(3));
        using var y = second.Allocate(new Shape(3));
        second.Scale(x, 2f, y);
        Assert.Equal([2f, 4f, 6f], y.ToArray());
    }
}
