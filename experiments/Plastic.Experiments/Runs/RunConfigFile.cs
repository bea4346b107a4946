using System.Text.Json;
using System.Text.Json.Nodes;
using Plastic.Topology;

namespace Plastic.Experiments.Runs;

/// <summary>A run folder's config.resolved.json (or results.json) read back by trace, probe and resume: a damaged one is an error naming the file, never a parser's stack trace.</summary>
public static class RunConfigFile
{
    /// <summary>The resolved config at <paramref name="path"/>, a JSON object.</summary>
    public static JsonObject Read(string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message.Split(" LineNumber")[0].TrimEnd()}); a run writes it whole, so it was changed or cut short since.");
        }
        return node as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object; a run writes its resolved config as one.");
    }

    /// <summary>The network the run trained, from the config's 'spec'.</summary>
    public static NetworkSpec Network(string path) => Network(Read(path), path);

    public static NetworkSpec Network(JsonObject config, string path) =>
        config["spec"] is JsonObject spec ? NetworkSpecJson.Parse(spec.ToJsonString(), path + ":spec")
            : throw new InvalidDataException($"{path}: no 'spec' object; a run's resolved config holds the network it trained.");

    /// <summary>The mean and std a run on a folder of images normalised its input by (config.resolved.json's data_sets.dataset), or null for other runs.</summary>
    public static (double[] Mean, double[] Std)? FolderNormalisation(string path)
    {
        if (!File.Exists(path) || Read(path)["data_sets"]?["dataset"] is not JsonObject set) return null;
        double[]? Values(string key) => set[key] is JsonArray a ? [.. a.Select(v => (double)v!)] : null;
        return Values("mean") is { } mean && Values("std") is { } std ? (mean, [.. std.Select(s => s > 0 ? s : 1)]) : null;
    }
}
