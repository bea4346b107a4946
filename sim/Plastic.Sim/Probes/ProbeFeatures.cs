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

    /// <summary>Features [count, encoder.Size] and labels, streamed through the encoder batch by batch.</summary>
    public static (float[] X, byte[] Y) Of(EncoderFeatures encoder, LabelledImages images, AugmentSettings settings, int limit) =>
        Of(encoder, Inputs(images, settings, limit, keep: false), Count(images, limit));

    /// <summary>The normalised input batches, kept in memory (an online probe reuses them at every measurement).</summary>
    public static IReadOnlyList<(float[] Images, int[] Dims, byte[] Labels)> Keep(LabelledImages images, AugmentSettings settings, int limit) =>
        [.. Inputs(images, settings, limit, keep: true)];

    public static (float[] X, byte[] Y) Of(EncoderFeatures encoder, IEnumerable<(float[] Images, int[] Dims, byte[] Labels)> batches, int count)
    {
        var x = new float[(long)count * encoder.Size];
        var y = new byte[count];
        int done = 0;
        foreach (var (values, dims, labels) in batches)
        {
            int n = Math.Min(dims[0], count - done);
            if (n <= 0) break;
            var features = encoder.Of(values, dims);
            Array.Copy(features, 0, x, (long)done * encoder.Size, (long)n * encoder.Size);
            Array.Copy(labels, 0, y, done, n);
            done += n;
        }
        return (x, y);
    }

    private static int Count(LabelledImages images, int limit) => limit > 0 ? Math.Min(limit, images.Count) : images.Count;

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
