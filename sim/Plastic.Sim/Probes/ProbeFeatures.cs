using Plastic.Datasets.Augment;
using Plastic.Datasets.Pipeline;
using Plastic.Datasets.Readers;

namespace Plastic.Sim.Probes;

/// <summary>
/// The inputs of a probe: the first images of a split (all when the limit is 0), in data-set order, only
/// normalised (no probe-time augmentation), and the encoder's features of them.
/// </summary>
public static class ProbeFeatures
{
    private const int Batch = 256;

    /// <summary>
    /// Features [count, encoder.Size] and labels, streamed through the encoder batch by batch into rows of at
    /// most <paramref name="chunkFloats"/> floats per chunk (so any number of images fits).
    /// </summary>
    public static (FeatureRows X, byte[] Y) Of(EncoderFeatures encoder, LabelledImages images, AugmentSettings settings, int limit,
        long chunkFloats = FeatureRows.DefaultChunkFloats) =>
        Of(encoder, Inputs(images, settings, limit, keep: false), Count(images, limit), chunkFloats);

    /// <summary>The normalised input batches, kept in memory (an online probe reuses them at every measurement).</summary>
    public static IReadOnlyList<(float[] Images, int[] Dims, byte[] Labels)> Keep(LabelledImages images, AugmentSettings settings, int limit) =>
        [.. Inputs(images, settings, limit, keep: true)];

    public static (FeatureRows X, byte[] Y) Of(EncoderFeatures encoder, IEnumerable<(float[] Images, int[] Dims, byte[] Labels)> batches, int count,
        long chunkFloats = FeatureRows.DefaultChunkFloats)
    {
        var x = FeatureRows.Allocate(count, encoder.Size, chunkFloats);
        var y = new byte[count];
        int done = 0;
        foreach (var (features, labels, n) in Blocks(encoder, batches, count))
        {
            for (int i = 0; i < n; i++) features.AsSpan(i * encoder.Size, encoder.Size).CopyTo(x.Row(done + i));
            Array.Copy(labels, 0, y, done, n);
            done += n;
        }
        return (x, y);
    }

    /// <summary>The features of the first images of a split, one encoder batch at a time, never all in memory (the paper protocol's kNN).</summary>
    public static IEnumerable<(float[] Rows, byte[] Labels)> Stream(EncoderFeatures encoder, LabelledImages images, AugmentSettings settings, int limit) =>
        Blocks(encoder, Inputs(images, settings, limit, keep: true), Count(images, limit)).Select(b => (b.Features, b.Labels));

    public static int Count(LabelledImages images, int limit) => limit > 0 ? Math.Min(limit, images.Count) : images.Count;

    private static IEnumerable<(float[] Features, byte[] Labels, int Rows)> Blocks(EncoderFeatures encoder, IEnumerable<(float[] Images, int[] Dims, byte[] Labels)> batches, int count)
    {
        int done = 0;
        foreach (var (values, dims, labels) in batches)
        {
            int n = Math.Min(dims[0], count - done);
            if (n <= 0) yield break;
            yield return (encoder.Of(values, dims), labels, n);
            done += n;
        }
    }

    private static IEnumerable<(float[] Images, int[] Dims, byte[] Labels)> Inputs(LabelledImages images, AugmentSettings settings, int limit, bool keep)
    {
        int left = Count(images, limit);
        foreach (var (values, dims, labels) in new TwoViewPipeline(images, settings, 1, 0).Labelled(Batch))
        {
            if (left <= 0) yield break;
            if (dims[0] <= left || !keep) yield return (values, dims, labels);
            else
            {
                // The last kept batch is cut to the limit, so a kept set holds exactly what is probed.
                int per = values.Length / dims[0];
                yield return (values[..(left * per)], [left, .. dims[1..]], labels[..left]);
            }
            left -= dims[0];
        }
    }
}
