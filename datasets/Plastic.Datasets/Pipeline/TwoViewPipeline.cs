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
                yield return await work.ConfigureAwait(false);
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
