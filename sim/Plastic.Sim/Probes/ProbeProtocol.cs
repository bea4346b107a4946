using System.Text.Json.Serialization;

namespace Plastic.Sim.Probes;

/// <summary>
/// How a linear probe is trained. <see cref="Paper"/> is PAPER.md 4.4: every epoch the training images are
/// re-augmented (RandomResizedCrop(size, scale 0.08 to 1) and a flip) and passed through the frozen encoder;
/// features not standardised. <see cref="Fast"/> computes the features of the un-augmented images once and
/// standardises them: about epochs times cheaper, and not the paper's numbers.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProbeProtocol>))]
public enum ProbeProtocol
{
    [JsonStringEnumMemberName("fast")] Fast,
    [JsonStringEnumMemberName("paper")] Paper,
}

public static class ProbeProtocols
{
    public const string Allowed = "fast or paper";

    /// <summary>The protocol called <paramref name="value"/>; <paramref name="key"/> names where it was given, in the error.</summary>
    public static ProbeProtocol Parse(string? value, string key) => value switch
    {
        "fast" => ProbeProtocol.Fast,
        "paper" => ProbeProtocol.Paper,
        _ => throw new ArgumentException($"{key}: '{value}' is not a probe protocol; choose {Allowed} " +
            "(paper: PAPER.md 4.4, training images re-augmented every epoch; fast: features computed once and standardised)."),
    };

    /// <summary>The name used in specs, JSON and tables.</summary>
    public static string Name(this ProbeProtocol protocol) => protocol == ProbeProtocol.Paper ? "paper" : "fast";

    /// <summary>One sentence on what the protocol does, for probe.json and compare.md.</summary>
    public static string Describe(this ProbeProtocol protocol) => protocol == ProbeProtocol.Paper
        ? "paper (PAPER.md 4.4): training images re-augmented every epoch (RandomResizedCrop scale 0.08-1, horizontal flip) and passed through the frozen encoder; " +
          "concatenated loss-pooled features of every layer, not standardised; linear layer + bias, cross-entropy, Adam lr 1e-3, batch 32; " +
          "test images not augmented; kNN on the un-augmented, unstandardised features; final = last epoch, best = best epoch on the test set"
        : "fast (not the paper's): features of the un-augmented images computed once and standardised with the training set's mean and std; " +
          "concatenated loss-pooled features of every layer; linear layer + bias, cross-entropy, Adam lr 1e-3, batch 32 (last partial batch dropped); " +
          "kNN on the same standardised features; final = last epoch, best = best epoch on the test set";
}
