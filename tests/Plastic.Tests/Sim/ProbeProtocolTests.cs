using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Datasets.Augment;
using Plastic.Datasets.Readers;
using Plastic.Sim.Probes;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>
/// The two probe protocols on a two-layer encoder of 8x8 images: the paper's (PAPER.md 4.4: training images
/// re-augmented and encoded every epoch, features not standardised, Adam lr 1e-3, batch 32) and the fast one
/// (features once, standardised, held in chunks of rows).
/// </summary>
public sealed class ProbeProtocolTests : IDisposable
{
    private const ulong Seed = 5;
    private static readonly NetworkSpec Spec = NetworkSpecJson.Parse("""
        {
          "name": "tiny", "input": { "channels": 3, "height": 8, "width": 8 }, "rule": "clapp++",
          "layers": [
            { "name": "c1", "kind": "conv", "width": 4, "kernel": 3, "padding": 1, "maxPool": 2, "lossPool": 2 },
            { "name": "c2", "kind": "conv", "width": 4, "kernel": 3, "padding": 1, "lossPool": 2 }
          ]
        }
        """, "tiny.json");
    private static readonly AugmentSettings Augment = new(8, 0.25, [0.5, 0.4, 0.3], [0.25, 0.2, 0.3], 3);

    private readonly CpuBackend _backend = new(threads: 1);
    private readonly EncoderFeatures _encoder;
    private readonly LabelledImages _train = Images("train", 70, 1), _test = Images("test", 60, 2);

    public ProbeProtocolTests() => _encoder = new EncoderFeatures(Spec, _backend, Seed);

    public void Dispose()
    {
        _encoder.Dispose();
        _backend.Dispose();
    }

    /// <summary>Random 3x8x8 images labelled i mod 3.</summary>
    private static LabelledImages Images(string name, int count, int seed)
    {
        var pixels = new byte[count * 3 * 8 * 8];
        new Random(seed).NextBytes(pixels);
        return new LabelledImages(name, pixels, [.. Enumerable.Range(0, count).Select(i => (byte)(i % 3))], 3, 8, 8, 3);
    }

    private (ProbeReport Report, List<ProbeBatch> Batches) Probe(ProbeProtocol protocol, int epochs = 2, bool perLayer = false, int knn = 0)
    {
        var batches = new List<ProbeBatch>();
        var report = ProbeSuite.Run(_backend, _encoder, ["c1", "c2"], _train, _test, Augment,
            new ProbeSettings(epochs, PerLayer: perLayer, Knn: knn, Protocol: protocol), Seed, observe: batches.Add);
        return (report, batches);
    }

    private static float[] FeaturesOf(ProbeBatch batch, int image, int width)
    {
        int row = Array.IndexOf(batch.Images, image);
        return batch.Features[(row * width)..((row + 1) * width)];
    }

    private static float[] FeaturesInEpoch(List<ProbeBatch> batches, int epoch, int image, int width) =>
        FeaturesOf(batches.Single(b => b.Epoch == epoch && b.Images.Contains(image)), image, width);

    [Fact]
    public void The_paper_protocol_draws_new_crops_every_epoch_and_the_fast_protocol_reuses_its_features()
    {
        int width = _encoder.Size;
        var (_, paper) = Probe(ProbeProtocol.Paper);
        Assert.NotEqual(FeaturesInEpoch(paper, 1, 0, width), FeaturesInEpoch(paper, 2, 0, width));

        // The fast protocol drops a last partial batch, so it takes an image that both epochs hold.
        var (_, fast) = Probe(ProbeProtocol.Fast);
        int both = fast.Where(b => b.Epoch == 1).SelectMany(b => b.Images).Intersect(fast.Where(b => b.Epoch == 2).SelectMany(b => b.Images)).First();
        Assert.Equal(FeaturesInEpoch(fast, 1, both, width), FeaturesInEpoch(fast, 2, both, width));
    }

    [Fact]
    public void The_paper_protocol_feeds_the_encoders_features_of_the_cropped_and_flipped_image_unstandardised()
    {
        // PAPER.md 4.4's training transform, written out here: RandomResizedCrop(size, scale 0.08 to 1) and a
        // flip, no colour jitter, grayscale or blur, whatever the SSL views use; drawn from (seed, epoch, image, view 2).
        var expected = Augment with { MinScale = 0.08, FlipProbability = 0.5, JitterProbability = 0, GrayscaleProbability = 0, BlurProbability = 0 };
        Assert.Equal(expected, Augment.ForProbeTraining());
        var (_, batches) = Probe(ProbeProtocol.Paper);
        using var reference = new EncoderFeatures(Spec, _backend, Seed);
        int width = reference.Size;
        foreach (int epoch in new[] { 1, 2 })
            foreach (int image in new[] { 0, 1, 69 })
            {
                var view = new float[3 * 8 * 8];
                ViewAugmentation.Apply(_train.Image(image), 3, 8, 8, expected, AugmentRandom.For(Seed, epoch, image, 2), view);
                var want = reference.Of(view, [1, 3, 8, 8]);
                var seen = FeaturesInEpoch(batches, epoch, image, width);
                for (int f = 0; f < width; f++) Assert.True(Math.Abs(want[f] - seen[f]) <= 1e-5f * (1 + Math.Abs(want[f])), $"epoch {epoch}, image {image}, feature {f}: {seen[f]} vs {want[f]}");
            }
    }

    [Fact]
    public void The_paper_protocol_tests_on_the_encoders_features_of_the_test_images_only_normalised()
    {
        // Replaying the batches it trained on through a classifier of the same seed and settings, tested on
        // features computed here from the normalised test images (no crop, no standardisation), gives its numbers.
        var (report, batches) = Probe(ProbeProtocol.Paper, epochs: 3);
        using var reference = new EncoderFeatures(Spec, _backend, Seed);
        var inputs = new float[_test.Count * 3 * 64];
        for (int i = 0; i < inputs.Length; i++)
        {
            int channel = i / 64 % 3;
            inputs[i] = (float)((_test.Image(i / (3 * 64))[i % (3 * 64)] / 255f - (float)Augment.Mean[channel]) * (float)(1 / Augment.Std[channel]));
        }
        var testFeatures = FeatureRows.From(reference.Of(inputs, [_test.Count, 3, 8, 8]), reference.Size);
        using var replay = new LinearClassifier(_backend, reference.Size, 3, Seed, ProbeSuite.Classifier(ProbeProtocol.Paper));
        foreach (var epoch in report.Concatenated.Epochs)
        {
            var losses = batches.Where(b => b.Epoch == epoch.Epoch).Select(b => replay.Step(b.Features, b.Labels)).ToList();
            Assert.Equal(epoch.TrainLoss, losses.Average(), 12);
            Assert.Equal(epoch.TestAccuracy, replay.Accuracy(testFeatures, _test.Labels), 12);
        }
    }

    [Fact]
    public void The_paper_protocol_takes_one_adam_step_at_lr_1e_3_per_batch_of_32_the_last_partial_one_included()
    {
        var settings = ProbeSuite.Classifier(ProbeProtocol.Paper);
        Assert.Equal(new ClassifierSettings(Batch: 32, LearningRate: 1e-3f, WeightDecay: 0f), settings);
        Assert.Equal(new AdamWSettings(1e-3f, Beta1: 0.9f, Beta2: 0.999f, Epsilon: 1e-8f, WeightDecay: 0f), settings.Adam);

        // 70 images: ceil(70 / 32) = 3 batches (32, 32, 6) per epoch, each image once.
        var (report, batches) = Probe(ProbeProtocol.Paper);
        foreach (int epoch in new[] { 1, 2 })
        {
            var inEpoch = batches.Where(b => b.Epoch == epoch).ToList();
            Assert.Equal([32, 32, 6], inEpoch.Select(b => b.Images.Length));
            Assert.Equal(Enumerable.Range(0, 70), inEpoch.SelectMany(b => b.Images).Order());
        }
        Assert.Equal(2, report.Concatenated.Epochs.Count);

        // The classifier is Adam at that rate: its first step moves every weight by lr (m / sqrt(v) = sign(g)).
        using var classifier = new LinearClassifier(_backend, 4, 3, Seed, settings);
        var before = classifier.Weights();
        classifier.Step([1, 2, 3, 4, -1, 0.5f, 2, 1], [0, 2]);
        var after = classifier.Weights();
        Assert.Equal(1, classifier.Steps);
        Assert.All(before.Zip(after), p => Assert.Equal(1e-3, Math.Abs(p.Second - p.First), 1e-5));
    }

    [Fact]
    public void A_paper_probe_reports_final_and_best_epochs_per_layer_and_knn_under_its_label()
    {
        var (report, _) = Probe(ProbeProtocol.Paper, perLayer: true, knn: 3);
        Assert.Equal(ProbeProtocol.Paper, report.Protocol);
        Assert.Equal([1, 2], report.Concatenated.Epochs.Select(e => e.Epoch));
        Assert.InRange(report.Concatenated.FinalAccuracy, 0, 1);
        Assert.Equal(report.Concatenated.Epochs.Max(e => e.TestAccuracy), report.Concatenated.Best.TestAccuracy);
        Assert.Equal(["c1", "c2"], report.PerLayer.Select(l => l.Layer));
        Assert.All(report.PerLayer, l => Assert.Equal(2, l.Result.Epochs.Count));
        Assert.NotNull(report.KnnAccuracy);
        Assert.Equal((32, 70, 60), (report.Features, report.TrainImages, report.TestImages));
    }

    [Fact]
    public void Fast_features_held_in_chunks_of_a_few_rows_give_the_probe_of_one_array()
    {
        // A chunk limit of 3 rows of 32 floats (the real one is 2^24 floats) splits 70 rows into 24 chunks.
        var (whole, yWhole) = ProbeFeatures.Of(_encoder, _train, Augment, 0);
        var (chunked, yChunked) = ProbeFeatures.Of(_encoder, _train, Augment, 0, chunkFloats: 3 * 32);
        Assert.Equal((1, 24), (whole.Chunks, chunked.Chunks));
        Assert.Equal(yWhole, yChunked);
        for (int i = 0; i < 70; i++) Assert.Equal(whole.Row(i).ToArray(), chunked.Row(i).ToArray());

        var (testWhole, yTest) = ProbeFeatures.Of(_encoder, _test, Augment, 0);
        var (testChunked, _) = ProbeFeatures.Of(_encoder, _test, Augment, 0, chunkFloats: 5 * 32);
        var settings = new ProbeSettings(Epochs: 3, PerLayer: true, Knn: 3);
        var a = ProbeSuite.Fast(_backend, ["c1", "c2"], _encoder.LayerSizes, whole, yWhole, testWhole, yTest, 3, settings, Seed);
        var b = ProbeSuite.Fast(_backend, ["c1", "c2"], _encoder.LayerSizes, chunked, yChunked, testChunked, yTest, 3, settings, Seed);
        Assert.Equal(a.Concatenated.Epochs, b.Concatenated.Epochs);
        Assert.Equal(a.PerLayer.Select(l => l.Result.Epochs.Last()), b.PerLayer.Select(l => l.Result.Epochs.Last()));
        Assert.Equal(a.KnnAccuracy, b.KnnAccuracy);
        // Standardised in place: the training rows now have mean about 0 in every column, in every chunk.
        Assert.All(Enumerable.Range(0, 32), f => Assert.Equal(0, Enumerable.Range(0, 70).Average(i => chunked.Row(i)[f]), 4));
    }

    [Fact]
    public void Protocol_names_parse_and_an_unknown_one_names_the_key_and_the_choices()
    {
        Assert.Equal(ProbeProtocol.Paper, ProbeProtocols.Parse("paper", "k"));
        Assert.Equal(ProbeProtocol.Fast, ProbeProtocols.Parse("fast", "k"));
        var e = Assert.Throws<ArgumentException>(() => ProbeProtocols.Parse("Paper", "spec.json: probe.protocol"));
        Assert.Contains("spec.json: probe.protocol", e.Message);
        Assert.Contains("'Paper'", e.Message);
        Assert.Contains("fast or paper", e.Message);
    }
}
