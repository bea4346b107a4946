using ILGPU.Runtime;
using Plastic.Compute;
using Plastic.Compute.Ilgpu;

namespace Plastic.Tests.Compute;

/// <summary>
/// Released accelerator buffers are kept for reuse (IlgpuBufferPool), on ILGPU's CPU accelerator: on CUDA
/// each real free waits for the whole device. A private pool on the shared accelerator keeps these tests
/// apart from the other tests that use the device at the same time.
/// </summary>
public sealed class IlgpuBufferPoolTests
{
    private static void WithPrivatePool(Action<IlgpuBufferPool> test)
    {
        using var backend = IlgpuBackend.Create("ilgpu-cpu");
        lock (backend.Device.Gate) test(new IlgpuBufferPool(backend.Device.Accelerator));
    }

    [Fact]
    public void A_returned_buffer_is_lent_again_for_the_same_element_type_and_length_only()
    {
        WithPrivatePool(pool =>
        {
            var first = pool.Rent<float>(777);
            pool.Return(first);
            Assert.Equal(777 * sizeof(float), pool.KeptBytes);

            var longer = pool.Rent<float>(778);
            var ints = pool.Rent<int>(777);
            Assert.NotSame(first, longer);
            Assert.NotSame((object)first, ints);
            Assert.Equal(777 * sizeof(float), pool.KeptBytes);

            Assert.Same(first, pool.Rent<float>(777));
            Assert.Equal(0, pool.KeptBytes);
            foreach (var b in new MemoryBuffer[] { first, longer, ints }) b.Dispose();
        });
    }

    [Fact]
    public void Scratch_goes_back_to_the_pool_when_disposed_and_drain_frees_what_is_kept()
    {
        WithPrivatePool(pool =>
        {
            using (var scratch = pool.Scratch<double>(64)) Assert.Equal(64, scratch.Length);
            Assert.Equal(64 * sizeof(double), pool.KeptBytes);

            var kept = pool.Rent<double>(64);
            pool.Return(kept);
            pool.Drain();
            Assert.Equal(0, pool.KeptBytes);
            Assert.True(kept.IsDisposed);
            using var fresh = pool.Rent<double>(64);
            Assert.NotSame(kept, fresh);
        });
    }

    [Fact]
    public void The_peak_counts_every_buffer_the_pool_made_whether_lent_or_kept()
    {
        WithPrivatePool(pool =>
        {
            var a = pool.Rent<float>(100);
            pool.Return(a);
            var again = pool.Rent<float>(100); // the same buffer: nothing new on the device
            var b = pool.Rent<float>(50);
            Assert.Equal(600, pool.HeldBytes);
            Assert.Equal(600, pool.PeakBytes);

            pool.Return(b);
            pool.Drain(); // frees the kept 50 floats; the lent 100 are still held
            Assert.Equal(400, pool.HeldBytes);
            Assert.Equal(600, pool.PeakBytes);
            again.Dispose();
        });
    }

    [Fact]
    public void A_tensor_allocated_on_a_reused_buffer_starts_at_zero()
    {
        using var backend = IlgpuBackend.Create("ilgpu-cpu");
        var shape = new Shape(3, 331); // a length no other test allocates, so the reused buffer is this test's own
        var ones = Enumerable.Repeat(1f, shape.Length).ToArray();
        using (var written = backend.Allocate(shape)) backend.Upload(ones, written);

        using var again = backend.Allocate(shape);
        var read = new float[shape.Length];
        backend.Download(again, read);
        Assert.All(read, v => Assert.Equal(0f, v));
    }
}
