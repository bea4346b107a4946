using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Compute.Ilgpu;

namespace Plastic.Tests.Compute;

/// <summary>
/// The pinned arrays that carry messages between the layers of one process (HostArrays), a host backend taking one as
/// a tensor without a copy (Adopt), and the CPU backend's copies of a message's megabytes (and of one tensor into
/// another) on every thread. Each test
/// uses a length of its own: the pool is process-wide and other tests run beside these.
/// </summary>
public sealed class HostArraysTests
{
    [Fact]
    public void A_given_back_array_is_lent_again_and_a_foreign_one_is_refused()
    {
        var array = HostArrays.Rent(10_007);
        Assert.Equal(10_007, array.Length);
        Assert.True(HostArrays.IsLent(array));
        int kept = HostArrays.KeptCount(10_007);
        HostArrays.Return(array);
        Assert.False(HostArrays.IsLent(array));
        Assert.Equal(kept + 1, HostArrays.KeptCount(10_007));
        Assert.Same(array, HostArrays.Rent(10_007));
        HostArrays.Return(array);
        var twice = Assert.Throws<ArgumentException>(() => HostArrays.Return(array));
        Assert.Contains("was not lent, or was given back already", twice.Message);
        Assert.Throws<ArgumentException>(() => HostArrays.Return(new float[10_007]));
    }

    [Fact]
    public void The_cpu_backend_takes_a_lent_array_as_a_tensor_and_gives_it_back_when_disposed()
    {
        using var backend = new CpuBackend(threads: 1);
        var array = HostArrays.Rent(2 * 3 * 1_009);
        for (int i = 0; i < array.Length; i++) array[i] = i;
        long before = backend.LiveTensorBytes;
        var tensor = backend.Adopt(array, new Shape(2, 3, 1_009));
        Assert.NotNull(tensor);
        Assert.Equal(before + array.Length * sizeof(float), backend.LiveTensorBytes);
        Assert.Equal(array, tensor.ToArray());
        array[5] = -1f; // the same storage, not a copy
        Assert.Equal(-1f, tensor.ToArray()[5]);
        Assert.True(HostArrays.IsLent(array)); // the tensor's now, not yet back in the pool
        tensor.Dispose();
        Assert.False(HostArrays.IsLent(array));
        Assert.Equal(before, backend.LiveTensorBytes);
    }

    [Fact]
    public void Adopt_refuses_an_array_the_pool_did_not_lend_and_a_wrong_length()
    {
        using var backend = new CpuBackend(threads: 1);
        var foreign = Assert.Throws<ArgumentException>(() => backend.Adopt(new float[12], new Shape(3, 4)));
        Assert.Contains("not one lent by HostArrays", foreign.Message);
        var array = HostArrays.Rent(1_013);
        var length = Assert.Throws<ShapeMismatchException>(() => backend.Adopt(array, new Shape(1_012)));
        Assert.Contains("Adopt", length.Message);
        Assert.True(HostArrays.IsLent(array)); // refused: still the caller's to give back
        HostArrays.Return(array);
    }

    [Fact]
    public void A_device_backend_does_not_adopt_host_arrays()
    {
        using var device = IlgpuBackend.Create("ilgpu-cpu");
        var array = HostArrays.Rent(1_019);
        Assert.Null(device.Adopt(array, new Shape(1_019)));
        Assert.True(HostArrays.IsLent(array));
        HostArrays.Return(array);
    }

    [Theory]
    [InlineData(1, (1 << 18) + 5)]
    [InlineData(2, (1 << 18) + 5)]
    [InlineData(3, (1 << 19) + 16_383)]
    [InlineData(2, 1_000)]
    public void Uploads_downloads_and_copies_copy_every_value_on_any_thread_count(int threads, int length)
    {
        using var backend = new CpuBackend(threads);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = i * 0.5f - 7f;
        using var tensor = backend.Allocate(new Shape(length));
        backend.Upload(values, tensor);
        var back = new float[length];
        backend.Download(tensor, back);
        Assert.Equal(values, back);
        using var copy = backend.Allocate(new Shape(length));
        backend.Copy(tensor, copy);
        Assert.Equal(values, copy.ToArray());
    }
}
