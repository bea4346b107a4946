using System.Text.Json.Nodes;
using Plastic.Compute;
using Plastic.Datasets.Augment;
using Plastic.Datasets.Pipeline;
using Plastic.Datasets.Readers;
using Plastic.Sim.Probes;
using Plastic.Topology;

namespace Plastic.Experiments;

/// <summary>The probes of a frozen encoder (PAPER.md 4.4 and the fast protocol), logged as they go, and their JSON form.</summary>
public static class Probing
{
    public static ProbeReport Probe(NetworkSpec network, IComputeBackend backend, ulong seed, IReadOnlyDictionary<string, Plastic.Sim.Actors.Parameters>? parameters,
        LabelledImages train, LabelledImages test, AugmentSettings augment, ProbeSettings settings, Action<string> log, string? name = null)
    {
        using var encoder = new EncoderFeatures(network, backend, seed, parameters);
        string label = $"{settings.Protocol.Name()} protocol";
        log($"{name ?? network.Name}: {encoder.Size} features ({string.Join(" + ", encoder.LayerSizes)}), " +
            $"{ProbeFeatures.Count(train, settings.TrainImages)} train / {ProbeFeatures.Count(test, settings.TestImages)} test images; probe protocol {settings.Protocol.Describe()}");
        var layers = network.Layers.Select(l => l.Name).ToList();
        var report = ProbeSuite.Run(backend, encoder, layers, train, test, augment, settings, seed,
            e => log($"  epoch {e.Epoch,3} ({label}): train loss {e.TrainLoss:F4}, test accuracy {e.TestAccuracy:P2}"));
        log($"linear probe ({label}), all layers: final-epoch test accuracy {report.Concatenated.FinalAccuracy:P2}; best {report.Concatenated.Best.TestAccuracy:P2} at epoch {report.Concatenated.Best.Epoch}");
        foreach (var l in report.PerLayer)
            log($"  layer {l.Layer,-10} ({label}) final {l.Result.FinalAccuracy:P2}, best {l.Result.Best.TestAccuracy:P2} (epoch {l.Result.Best.Epoch})");
        if (report.KnnAccuracy is { } k) log($"  {report.Knn}-NN (cosine, all layers, {label} features): {k:P2}");
        return report;
    }

    /// <summary>A probe report as JSON, its protocol first (every accuracy in it is that protocol's).</summary>
    public static JsonObject Json(ProbeReport report, string? dataset)
    {
        static JsonObject Result(ProbeResult r, JsonObject? into = null)
        {
            into ??= [];
            into["epochs"] = r.Epochs.Count; into["final_accuracy"] = r.FinalAccuracy; into["best_accuracy"] = r.Best.TestAccuracy; into["best_epoch"] = r.Best.Epoch;
            return into;
        }
        var doc = Result(report.Concatenated, new JsonObject { ["protocol"] = report.Protocol.Name() });
        if (dataset is not null) doc["dataset"] = dataset;
        doc["features"] = report.Features;
        doc["train_images"] = report.TrainImages;
        doc["test_images"] = report.TestImages;
        doc["protocol_description"] = report.Protocol.Describe();
        if (report.PerLayer.Count > 0)
            doc["per_layer"] = new JsonObject(report.PerLayer.Select(l => KeyValuePair.Create(l.Layer, (JsonNode?)Result(l.Result))));
        if (report.KnnAccuracy is { } k) { doc["knn_k"] = report.Knn; doc["knn_accuracy"] = k; }
        return doc;
    }
}
