using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Plastic.Compute;
using Plastic.Datasets.Augment;
using Plastic.Datasets.Catalog;
using Plastic.Datasets.Pipeline;
using Plastic.Datasets.Readers;
using Plastic.Sim.Probes;
using Plastic.Topology;

namespace Plastic.Cli;

/// <summary>
/// `plastic probe &lt;run folder&gt; --dataset NAME` (or `--untrained &lt;spec&gt;` for the random-encoder
/// baseline): a linear probe on the frozen encoder's concatenated, loss-pooled features of every layer,
/// trained on the training split and tested on the test split; final and best-epoch accuracy.
/// </summary>
public static class ProbeCommand
{
    public static Command Build()
    {
        var run = new Argument<string>("run") { Description = "A run folder written by plastic run (its spec and weights.npz), or with --untrained a spec or preset." };
        var untrained = new Option<bool>("--untrained") { Description = "Probe the network at its initialisation (the random-encoder baseline); the argument is then a spec or preset." };
        var dataset = new Option<string>("--dataset") { Description = "The labelled data set: mnist, fashion-mnist, cifar10, stl10, tiny-imagenet.", Required = true };
        var data = new Option<string?>("--data") { Description = "Data root (default: $PLASTIC_DATA, else ~/.cache/plastic/data)." };
        var epochs = new Option<int>("--epochs") { Description = "Probe epochs (PAPER.md: 300).", DefaultValueFactory = _ => 20 };
        var trainImages = new Option<int>("--train-images") { Description = "Training images used (default: all).", DefaultValueFactory = _ => 0 };
        var testImages = new Option<int>("--test-images") { Description = "Test images used (default: all).", DefaultValueFactory = _ => 0 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the probe (and of the untrained encoder).", DefaultValueFactory = _ => 2UL };
        var command = new Command("probe", "Linear probe on a frozen encoder: final and best-epoch test accuracy.") { run, untrained, dataset, data, epochs, trainImages, testImages, seed };
        command.SetAction(parse =>
        {
            string target = parse.GetValue(run)!;
            ulong seedValue = parse.GetValue(seed);
            NetworkSpec network;
            IReadOnlyDictionary<string, Plastic.Sim.Actors.Parameters>? parameters = null;
            string? folder = null;
            if (parse.GetValue(untrained))
            {
                network = DescribeCommand.Resolve(target);
            }
            else
            {
                folder = target;
                string config = Path.Combine(folder, "config.resolved.json"), weights = Path.Combine(folder, WeightsFile.Name);
                if (!File.Exists(config) || !File.Exists(weights))
                    throw new ArgumentException($"{folder}: no config.resolved.json and {WeightsFile.Name}; is it a run folder of plastic run? (For the random-encoder baseline: --untrained <spec>.)");
                var node = JsonNode.Parse(File.ReadAllText(config))!;
                network = NetworkSpecJson.Parse(node["spec"]!.ToJsonString(), config + ":spec");
                parameters = WeightsFile.Read(weights, network);
            }
            string name = parse.GetValue(dataset)!;
            DatasetCatalog.ByName(name);
            string root = DataRoot.Resolve(parse.GetValue(data));
            LabelledImages train, test;
            try { (train, test) = (DatasetSplits.Train(root, name), DatasetSplits.Test(root, name)); }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException($"--dataset {name}: {e.Message}"); }

            using var backend = BackendCatalog.Create(null);
            using var encoder = new EncoderFeatures(network, backend, seedValue, parameters);
            var settings = AugmentSettings.For(name);
            var (xTrain, yTrain) = Features(encoder, train, settings, parse.GetValue(trainImages));
            var (xTest, yTest) = Features(encoder, test, settings, parse.GetValue(testImages));
            Console.WriteLine($"{(folder is null ? $"untrained {network.Name}" : folder)}: {encoder.Size} features ({string.Join(" + ", encoder.LayerSizes)}), {yTrain.Length} train / {yTest.Length} test images of {name}");
            var result = LinearProbe.Train(backend, xTrain, yTrain, xTest, yTest, encoder.Size, train.Classes, parse.GetValue(epochs), seedValue,
                progress: e => Console.WriteLine($"  epoch {e.Epoch,3}: train loss {e.TrainLoss:F4}, test accuracy {e.TestAccuracy:P2}"));
            Console.WriteLine($"final-epoch test accuracy {result.FinalAccuracy:P2}; best {result.Best.TestAccuracy:P2} at epoch {result.Best.Epoch} (features without probe-time augmentation)");
            if (folder is not null)
            {
                var doc = new JsonObject
                {
                    ["dataset"] = name, ["features"] = encoder.Size, ["train_images"] = yTrain.Length, ["test_images"] = yTest.Length,
                    ["epochs"] = result.Epochs.Count, ["final_accuracy"] = result.FinalAccuracy, ["best_accuracy"] = result.Best.TestAccuracy, ["best_epoch"] = result.Best.Epoch,
                    ["protocol"] = "linear layer + bias on standardised concatenated loss-pooled features of every layer; Adam lr 1e-3, batch 32; no probe-time augmentation",
                };
                File.WriteAllText(Path.Combine(folder, "probe.json"), doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            }
            return 0;
        });
        return command;
    }

    /// <summary>The encoder's features of the first <paramref name="limit"/> images (all when 0), normalised, not augmented.</summary>
    public static (float[] X, byte[] Y) Features(EncoderFeatures encoder, LabelledImages images, AugmentSettings settings, int limit)
    {
        int count = limit > 0 ? Math.Min(limit, images.Count) : images.Count;
        var x = new float[(long)count * encoder.Size];
        var y = new byte[count];
        int done = 0;
        foreach (var (values, dims, labels) in new TwoViewPipeline(images, settings, 1, 0).Labelled(256))
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
}
