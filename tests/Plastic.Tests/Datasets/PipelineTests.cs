using Plastic.Datasets.Augment;
using Plastic.Datasets.Pipeline;
using Plastic.Datasets.Readers;

namespace Plastic.Tests.Datasets;

/// <summary>Augmentations and the two-view pipeline: deterministic whatever the worker count, each augmentation doing what it says, clean cancellation.</summary>
public sealed class PipelineTests
{
    private static LabelledImages Images(int count = 40, int channels = 3, int side = 32)
    {
        var random = new Random(5);
        var pixels = new byte[count * channels * side * side];
        random.NextBytes(pixels);
        return new LabelledImages("toy", pixels, Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray(), channels, side, side, 10);
    }

    private static async Task<List<(int[] Images, float[] Views)>> Collect(TwoViewPipeline pipeline, int epoch)
    {
        var batches = new List<(int[], float[])>();
        await foreach (var batch in pipeline.Epoch(epoch))
            using (batch) batches.Add((batch.Images, batch.Views.ToArray()));
        return batches;
    }

    [Fact]
    public async Task An_epoch_is_the_same_whatever_the_worker_count_and_changes_with_the_epoch()
    {
        var images = Images();
        var one = await Collect(new TwoViewPipeline(images, AugmentSettings.Cifar10, 8, seed: 3, workers: 1), epoch: 0);
        var four = await Collect(new TwoViewPipeline(images, AugmentSettings.Cifar10, 8, seed: 3, workers: 4, capacity: 2), epoch: 0);
        Assert.Equal(5, one.Count);
        for (int b = 0; b < one.Count; b++)
        {
            Assert.Equal(one[b].Images, four[b].Images);
            Assert.Equal(one[b].Views, four[b].Views);
        }
        Assert.Equal(Enumerable.Range(0, 40), one.SelectMany(b => b.Images).Order());   // every image once per epoch
        var next = await Collect(new TwoViewPipeline(images, AugmentSettings.Cifar10, 8, seed: 3, workers: 2), epoch: 1);
        Assert.NotEqual(one[0].Images, next[0].Images);
        var dims = await FirstDims(images);
        Assert.Equal(new[] { 16, 3, 32, 32 }, dims);
    }

    private static async Task<int[]> FirstDims(LabelledImages images)
    {
        await foreach (var batch in new TwoViewPipeline(images, AugmentSettings.Cifar10, 8, 3).Epoch(0))
            using (batch) return batch.Dims;
        return [];
    }

    [Fact]
    public void The_two_views_differ_and_flip_and_grayscale_do_what_they_say()
    {
        var images = Images(2);
        int s = 32, plane = s * s;
        var plain = new AugmentSettings(32, 0.25, [0, 0, 0], [1, 1, 1], 3, JitterProbability: 0, GrayscaleProbability: 0, BlurProbability: 0, FlipProbability: 0);
        float[] View(AugmentSettings settings, int view)
        {
            var output = new float[3 * plane];
            ViewAugmentation.Apply(images.Image(0), 3, 32, 32, settings, AugmentRandom.For(1, 0, 0, view), output);
            return output;
        }
        Assert.NotEqual(View(plain, 0), View(plain, 1));
        var unflipped = View(plain, 0);
        var flipped = View(plain with { FlipProbability = 1 }, 0);
        for (int c = 0; c < 3; c++) for (int r = 0; r < s; r++) for (int x = 0; x < s; x++)
            Assert.Equal(unflipped[c * plane + r * s + x], flipped[c * plane + r * s + (s - 1 - x)]);
        var grey = View(plain with { GrayscaleProbability = 1 }, 0);
        for (int i = 0; i < plane; i++) { Assert.Equal(grey[i], grey[plane + i]); Assert.Equal(grey[i], grey[2 * plane + i]); }
        var jittered = View(AugmentSettings.Cifar10 with { JitterProbability = 1, BlurProbability = 1 }, 0);
        Assert.All(jittered, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Probe_batches_give_every_image_once_in_order_normalised_with_labels()
    {
        var images = Images(10);
        var batches = new TwoViewPipeline(images, AugmentSettings.Cifar10, 4, seed: 1).Labelled(4).ToList();
        Assert.Equal([4, 4, 2], batches.Select(b => b.Dims[0]));
        Assert.Equal(images.Labels, batches.SelectMany(b => b.Labels));
        float expected = (images.Image(5)[1024 + 7] / 255f - (float)(123.0 / 255)) / (float)(62.1 / 255);
        Assert.Equal(expected, batches[1].Images[(1 * 3 + 1) * 1024 + 7], 5);
    }

    [Fact]
    public async Task Stopping_early_shuts_the_pipeline_down_cleanly()
    {
        var pipeline = new TwoViewPipeline(Images(80), AugmentSettings.Cifar10, 4, seed: 1, workers: 3, capacity: 2);
        int taken = 0;
        await foreach (var batch in pipeline.Epoch(0))
        {
            batch.Dispose();
            if (++taken == 2) break;
        }
        using var cancel = new CancellationTokenSource();
        taken = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var batch in pipeline.Epoch(0, cancel.Token))
            {
                batch.Dispose();
                if (++taken == 3) cancel.Cancel();
            }
        });
        Assert.Equal(3, taken);
    }
}
