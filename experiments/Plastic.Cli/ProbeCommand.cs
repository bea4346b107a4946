using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Plastic.Compute;
using Plastic.Datasets.Augment;
using Plastic.Datasets.Catalog;
using Plastic.Datasets.Pipeline;
using Plastic.Datasets.Readers;
using Plastic.Experiments.Runs;
using Plastic.Sim.Probes;
using Plastic.Topology;

namespace Plastic.Cli;

/// <summary>
/// `plastic probe &lt;run folder&gt; --dataset NAME` (or `--untrained &lt;spec&gt;` for the random-encoder
/// baseline): a linear probe on the frozen encoder's concatenated, loss-pooled features of every layer,
/// trained on the training split and tested on the test split; final and best-epoch accuracy, labelled
/// with the protocol (--protocol fast, the default, or paper: PAPER.md 4.4).
/// </summary>
public static class ProbeCommand
{
    public static Command Build()
    {
        var run = new Argument<string>("run") { Description = "A run folder written by plastic run (its spec and weights.npz), or with --untrained a spec or preset." };
        var untrained = new Option<bool>("--untrained") { Description = "Probe the network at its initialisation (the random-encoder baseline); the argument is then a spec or preset." };
        var dataset = new Option<string?>("--dataset") { Description = "The labelled data set: mnist, fashion-mnist, cifar10, cifar100, cifar100-coarse, stl10, tiny-imagenet (or --train and --test)." };
        var trainFolder = new Option<string?>("--train") { Description = "Instead of --dataset: a labelled folder of images the probe trains on (with --test)." };
        var testFolder = new Option<string?>("--test") { Description = "With --train: the labelled folder of images the probe is tested on." };
        var labels = new Option<string>("--labels") { Description = "With --train / --test: folders (one subfolder per class) or a CSV of file,label lines.", DefaultValueFactory = _ => "folders" };
        var data = new Option<string?>("--data") { Description = "Data root (default: $PLASTIC_DATA, else ~/.cache/plastic/data)." };
        var epochs = new Option<int>("--epochs") { Description = "Probe epochs (PAPER.md: 300).", DefaultValueFactory = _ => 20 };
        var trainImages = new Option<int>("--train-images") { Description = "Training images used (default: all).", DefaultValueFactory = _ => 0 };
        var testImages = new Option<int>("--test-images") { Description = "Test images used (default: all).", DefaultValueFactory = _ => 0 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the probe (and of the untrained encoder).", DefaultValueFactory = _ => 2UL };
        var networkOption = new Option<string?>("--network") { Description = "The network of a folder that holds weights.npz without config.resolved.json (a preset or spec file)." };
        var perLayer = new Option<bool>("--per-layer") { Description = "Also a linear probe on each layer's features alone." };
        var protocol = new Option<string>("--protocol")
        {
            Description = "paper: PAPER.md 4.4, training images re-augmented and encoded every epoch, features not standardised (about epochs times the encoder cost); " +
                "fast (default): features of the un-augmented images computed once and standardised.",
            DefaultValueFactory = _ => "fast",
        };
        var knn = new Option<int>("--knn") { Description = "Also the accuracy of a k-nearest-neighbour classifier (cosine) with this k (0: none).", DefaultValueFactory = _ => 0 };
        var command = new Command("probe", "Linear probe on a frozen encoder: final and best-epoch test accuracy.") { run, untrained, dataset, trainFolder, testFolder, labels, data, epochs, trainImages, testImages, seed, perLayer, knn, protocol, networkOption };
        command.SetAction(parse =>
        {
            string target = parse.GetValue(run)!;
            var protocolValue = ProbeProtocols.Parse(parse.GetValue(protocol), "--protocol");
            ulong seedValue = parse.GetValue(seed);
            NetworkSpec network;
            IReadOnlyDictionary<string, Plastic.Sim.Actors.Parameters>? parameters = null;
            string? folder = null;
            if (parse.GetValue(untrained))
            {
                network = Plastic.Experiments.NetworkResolver.Resolve(target);
            }
            else
            {
                folder = target;
                string config = Path.Combine(folder, "config.resolved.json"), weights = Path.Combine(folder, WeightsFile.Name);
                if (!File.Exists(weights))
                    throw new ArgumentException($"{folder}: no {WeightsFile.Name}; is it a run folder of plastic run? (For the random-encoder baseline: --untrained <spec>.)");
                if (parse.GetValue(networkOption) is { } given) network = Plastic.Experiments.NetworkResolver.Resolve(given);
                else if (File.Exists(config)) network = Plastic.Experiments.Runs.RunConfigFile.Network(config);
                else throw new ArgumentException($"{folder}: no config.resolved.json to say which network {WeightsFile.Name} belongs to; name it with --network <preset or spec>.");
                parameters = WeightsFile.Read(weights, network);
            }
            string? name = parse.GetValue(dataset);
            var (trainPath, testPath) = (parse.GetValue(trainFolder), parse.GetValue(testFolder));
            if ((name is null) == (trainPath is null && testPath is null))
                throw new ArgumentException(name is null ? "Choose the labelled data: --dataset <name>, or --train <folder> and --test <folder>." : $"--dataset {name} and --train / --test: give one, not both.");
            if (name is null && (trainPath is null || testPath is null)) throw new ArgumentException($"--{(trainPath is null ? "train" : "test")}: a probe on folders needs both --train and --test.");
            LabelledImages train, test;
            AugmentSettings settings;
            if (name is not null)
            {
                DatasetCatalog.ByName(name);
                string root = DataRoot.Resolve(parse.GetValue(data));
                try { (train, test) = (DatasetSplits.Train(root, name), ProbeTestTransform.Apply(name, DatasetSplits.Test(root, name))); }
                catch (Exception e) when (e is FileNotFoundException or InvalidDataException) { throw new ArgumentException($"--dataset {name}: {e.Message}"); }
                settings = AugmentSettings.For(name);
            }
            else
            {
                string labelsValue = parse.GetValue(labels)!;
                var trainData = LabelledData.ReadFolder(new DatasetRef { Images = trainPath, Labels = labelsValue }, "--train", network, Console.WriteLine, parse.GetValue(data));
                var testData = LabelledData.ReadFolder(new DatasetRef { Images = testPath, Labels = labelsValue }, "--test", network, Console.WriteLine, parse.GetValue(data));
                if (!trainData.Manifest.Classes.SequenceEqual(testData.Manifest.Classes))
                    throw new ArgumentException($"--train {trainPath} and --test {testPath} have other classes ({string.Join(", ", trainData.Manifest.Classes.Take(5))} ... and {string.Join(", ", testData.Manifest.Classes.Take(5))} ...).");
                (train, test) = (trainData.Images, testData.Images);
                settings = LabelledData.ForFolder(trainData.Manifest);
                name = $"images {trainData.Manifest.Root} / {testData.Manifest.Root}";
            }
            // The encoder sees its input as it was trained: a run on a folder was normalised by that folder's mean and std.
            if (folder is not null && RunConfigFile.FolderNormalisation(Path.Combine(folder, "config.resolved.json")) is { } trained && trained.Mean.Length == train.Channels)
                settings = settings with { Mean = trained.Mean, Std = trained.Std };

            using var backend = BackendCatalog.Create(null);
            var probeSettings = new ProbeSettings(parse.GetValue(epochs), parse.GetValue(trainImages), parse.GetValue(testImages), parse.GetValue(perLayer), parse.GetValue(knn), protocolValue);
            probeSettings.Validate("plastic probe");
            var report = Plastic.Experiments.Probing.Probe(network, backend, seedValue, parameters, train, test, settings, probeSettings, Console.WriteLine,
                folder is null ? $"untrained {network.Name}" : folder);
            if (folder is not null)
                Plastic.Experiments.JsonOutput.WriteResults(Path.Combine(folder, "probe.json"), Plastic.Experiments.Probing.Json(report, name));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The probes of <paramref name="settings"/> on the encoder with <paramref name="parameters"/> (its
    /// initialisation when null), with each epoch and the results written to <paramref name="log"/>.
    /// </summary>
}
