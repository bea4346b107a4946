using System.Text.Json.Nodes;

namespace Plastic.Experiments.Runs;

/// <summary>
/// The tiny budget of `--smoke` (run and compare) and of the tests that keep every shipped spec and script
/// running: 2 steps of 4 images, every instrument the spec asks for at every step, a 1-epoch probe on 64 /
/// 32 images. It only checks that everything runs; its numbers mean nothing.
/// </summary>
public static class SmokeBudget
{
    /// <summary>The assignments (for <see cref="RunSpec.Set"/>) that shrink a run spec to the smoke budget, before the user's own.</summary>
    public static IEnumerable<string> For(JsonObject run)
    {
        string[] budget = ["steps=2", "epochs=null", "batch=4", "checkpointEvery=0"];
        foreach (var s in budget) yield return s;
        if (run["alignEvery"] is not null) yield return "alignEvery=1";
        if (run["schedule"]?.GetValue<string>() == "greedy")
            foreach (var s in new[] { "schedule=pipelined", "layerSteps=null", "layerEpochs=null" }) yield return s;
        if (run["probe"] is not null)
            foreach (var s in new[] { "probe.epochs=1", "probe.trainImages=64", "probe.testImages=32", "probe.onlineEvery=0" }) yield return s;
    }

    public const string Description = "A tiny budget that checks the spec runs end to end: 2 steps of 4 images, a 1-epoch probe on 64 / 32 images; the numbers mean nothing.";
}
