using Plastic.Compute.Cpu;
using Plastic.Datasets.Augment;
using Plastic.Datasets.Pipeline;
using Plastic.Datasets.Readers;
using Plastic.Sim;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>Training on a data set: steps stream through the pipeline, any step can be rebuilt on demand with the same values, and a run learns from it.</summary>
public sealed class DatasetBatchesTests
{
    private static LabelledImages Images(int count)
    {
        var pixels = new byte[count * 3 * 32 * 32];
        new Random(2).NextBytes(pixels);
        return new LabelledImages("toy", pixels, Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray(), 3, 32, 32, 10);
    }

    [Fact]
    public void Steps_in_order_and_on_demand_give_the_same_batches_across_epochs()
    {
        var pipeline = new TwoViewPipeline(Images(12), AugmentSettings.Cifar10, 4, seed: 5);
        using var streamed = new DatasetBatches(pipeline, 5);
        using var onDemand = new DatasetBatches(pipeline, 5);
        var ordered = Enumerable.Range(0, 7).Select(s => streamed.Batch(s)).ToList();   // crosses two epoch boundaries (3 batches each)
        foreach (int s in new[] { 6, 2, 4, 0 })
        {
            var again = onDemand.Batch(s);
            Assert.Equal(ordered[s].Views.Values.ToArray(), again.Views.Values.ToArray());
            Assert.Equal(ordered[s].Negatives.ToArray(), again.Negatives.ToArray());
        }
        Assert.Equal([8, 3, 32, 32], ordered[0].Views.Dims.ToArray());
        Assert.NotEqual(ordered[0].Views.Values.ToArray(), ordered[3].Views.Values.ToArray());   // epoch 1 reshuffles and redraws
    }

    [Fact]
    public void A_streamed_batch_comes_in_a_pooled_array_that_its_one_reader_gives_back_and_others_keep_their_own()
    {
        var pipeline = new TwoViewPipeline(Images(12), AugmentSettings.Cifar10, 4, seed: 5);
        using var batches = new DatasetBatches(pipeline, 5);
        using var reference = new DatasetBatches(pipeline, 5);
        var batch = batches.Batch(0);
        var expected = reference.Batch(0).Views.Values.ToArray();
        Assert.True(batch.Views.IsLent);
        // A step asked for out of order (the monitor's) is read, never handed over: an array of its own.
        Assert.False(batches.Batch(0).Views.IsLent);
        using var backend = new CpuBackend(threads: 1);
        using var tensor = backend.Allocate(batch.Views.Shape);
        batch.Views.CopyTo(backend, tensor);
        Assert.Equal(expected, tensor.ToArray());
        Assert.False(batch.Views.IsLent); // given back to the pool (HostArraysTests count the pool itself)

        // A benchmark's repeated batch is read every step: its values are its own, not a pooled array read once.
        using var repeatedSource = new DatasetBatches(pipeline, 5);
        var repeated = new RepeatedBatch(repeatedSource);
        for (int step = 0; step < 3; step++)
        {
            var views = repeated.Batch(step).Views;
            Assert.False(views.IsLent);
            views.CopyTo(backend, tensor);
            Assert.Equal(reference.Batch(0).Views.Values.ToArray(), tensor.ToArray());
        }
    }

    [Fact]
    public async Task A_local_run_on_data_set_batches_is_reproducible_and_can_be_measured_by_the_monitor()
    {
        var spec = Presets.Vgg6(32, 0.0625);
        Task<RunResult> Run()
        {
            var source = new DatasetBatches(new TwoViewPipeline(Images(16), AugmentSettings.Cifar10, 4, seed: 3, workers: 2), 3);
            return Simulation.RunAsync(spec, new RunOptions(6, BatchSize: 4, Seed: 3) { Schedule = new(MaxInFlight: 3), Optimizer = new(1e-3f), Instruments = new(AlignEvery: 3) },
                () => new CpuBackend(threads: 1), source);
        }
        var a = await Run();
        var b = await Run();
        foreach (var layer in spec.Layers.Select(l => l.Name))
            Assert.Equal(a.Parameters[layer].Weight.ToArray(), b.Parameters[layer].Weight.ToArray());
        Assert.Equal([0L, 3L], a.Alignment.Select(x => x.Step).Distinct());
        Assert.Equal(1.0, a.Alignment.Last().Layer.Cosine, 1e-6);
    }
}
