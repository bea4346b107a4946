using System.Buffers;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Plastic.Datasets.Augment;
using Plastic.Datasets.Readers;

namespace Plastic.Datasets.Pipeline;

/// <summary>
/// The input pipeline: each epoch visits the images in a random order (from the seed and the epoch),
/// cut into minibatches of N; workers build batches in parallel (two augmented views per image, drawn
/// from (seed, epoch, image, view)) into pooled buffers, and a bounded channel hands them over in batch
/// order, so the result is the same whatever the worker count, and a slow consumer stops the producers.
/// </summary>
public sealed class TwoViewPipeline(LabelledImages images, AugmentSettings settings, int batchSize, ulong seed, int workers = 2, int capacity = 4)
{
    public int BatchesPerEpoch => images.Count / batchSize;

    /// <summary>The image order of an epoch: a Fisher-Yates shuffle drawn from (seed, epoch).</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, images.Count).ToArray();
        var random = AugmentRandom.For(seed, epoch, -1, 0);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(random.Uniform((ulong)i) * (i + 1));
            if (j > i) j = i;
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    public async IAsyncEnumerable<TwoViewBatch> Epoch(int epoch, [EnumeratorCancellation] CancellationToken cancel = default)
    {
        if (batchSize < 1 || batchSize > images.Count) throw new ArgumentException($"Batch size {batchSize} for {images.Count} images.");
        var order = Order(epoch);
        var channel = Channel.CreateBounded<Task<TwoViewBatch>>(new BoundedChannelOptions(Math.Max(1, capacity)) { SingleReader = true, SingleWriter = true });
        using var slots = new SemaphoreSlim(Math.Max(1, workers));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var producer = Task.Run(async () =>
        {
            try
            {
                for (int b = 0; b < BatchesPerEpoch; b++)
                {
                    await slots.WaitAsync(stop.Token).ConfigureAwait(false);
                    int index = b;
                    var work = Task.Run(() => { try { return Build(epoch, index, order); } finally { slots.Release(); } });
                    await channel.Writer.WriteAsync(work, stop.Token).ConfigureAwait(false);
                }
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e);
            }
        });
        try
        {
            await foreach (var work in channel.Reader.ReadAllAsync(cancel).ConfigureAwait(false))
            {
                var batch = await work.ConfigureAwait(false);
                // Batches already built must not outlive a cancellation: stop at the next one, not when the channel runs dry.
                if (cancel.IsCancellationRequested)
                {
                    batch.Dispose();
                    cancel.ThrowIfCancellationRequested();
                }
                yield return batch;
            }
        }
        finally
        {
            // Clean shutdown: stop the producer, then return every buffer built but not handed over.
            stop.Cancel();
            try { await producer.ConfigureAwait(false); } catch (OperationCanceledException) { }
            while (channel.Reader.TryRead(out var left))
                try { (await left.ConfigureAwait(false)).Dispose(); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>
    /// Labelled batches for linear probes: every image once, in data-set order, not augmented, only
    /// normalised with the data set's mean and std ([N, C, H, W] at the stored size; the last batch may be short).
    /// </summary>
    public IEnumerable<(float[] Images, int[] Dims, byte[] Labels)> Labelled(int probeBatch)
    {
        int c = images.Channels, plane = images.Height * images.Width;
        for (int first = 0; first < images.Count; first += probeBatch)
        {
            int n = Math.Min(probeBatch, images.Count - first);
            var values = new float[n * c * plane];
            for (int i = 0; i < n; i++)
            {
                var image = images.Image(first + i);
                for (int ch = 0; ch < c; ch++)
                {
                    float mean = (float)settings.Mean[ch], inv = (float)(1 / settings.Std[ch]);
                    for (int p = 0; p < plane; p++) values[(i * c + ch) * plane + p] = (image[ch * plane + p] / 255f - mean) * inv;
                }
            }
            yield return (values, [n, c, images.Height, images.Width], images.Labels.AsSpan(first, n).ToArray());
        }
    }

    /// <summary>
    /// Batch <paramref name="index"/> of <paramref name="epoch"/>, built on the calling thread: the same
    /// values the epoch stream delivers (every draw is keyed by seed, epoch and image), for consumers
    /// that need one batch out of order.
    /// </summary>
    public TwoViewBatch BatchAt(int epoch, int index)
    {
        if (index < 0 || index >= BatchesPerEpoch) throw new ArgumentOutOfRangeException(nameof(index), index, $"An epoch has {BatchesPerEpoch} batches.");
        return Build(epoch, index, Order(epoch));
    }

    private TwoViewBatch Build(int epoch, int index, int[] order)
    {
        int n = batchSize, c = images.Channels, s = settings.Size, view = c * s * s;
        var buffer = ArrayPool<float>.Shared.Rent(2 * n * view);
        var labels = new byte[n];
        var chosen = new int[n];
        for (int i = 0; i < n; i++)
        {
            int image = order[index * n + i];
            chosen[i] = image;
            labels[i] = images.Labels[image];
            for (int v = 0; v < 2; v++)
                ViewAugmentation.Apply(images.Image(image), c, images.Height, images.Width, settings, AugmentRandom.For(seed, epoch, image, v),
                    buffer.AsSpan((v * n + i) * view, view));
        }
        return new TwoViewBatch(epoch, index, buffer, [2 * n, c, s, s], labels, chosen);
    }
}
