#:project ../Plastic.Experiments/Plastic.Experiments.csproj
// A rule of your own, defined here and run through the engine like a built-in one (in this process).
// The question it asks: how much of CLAPP++'s probe accuracy comes from its lower layers learning at all?
// "frozen below block4" keeps block1..block3 at their random initialisation (a rule that reports no loss
// and moves nothing) while block4..block6 learn with CLAPP++; against CLAPP++ everywhere and the untrained
// encoder, on the 1/8-width VGG-6 and CIFAR-10.
//
//   dotnet run -c Release experiments/scripts/custom-rule.cs -- [--data DIR] [--out DIR] [--epochs E] [--smoke] [--overwrite]
using System.Text.Json.Nodes;
using Plastic.Compute;
using Plastic.Experiments.Compare;
using Plastic.Rules;
using Plastic.Sim;
using Plastic.Topology;

string? Arg(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
bool smoke = args.Contains("--smoke");
const int firstLearning = 3; // block4

// The rule factory: a layer of a "frozen-below-block4" network below block4 gets the frozen rule, the
// layers above it CLAPP++; any other rule name goes to the catalogue.
RuleFactory rules = (spec, shape, backend, init, optimizer) =>
{
    if (spec.RuleOf(shape.Layer) != "frozen-below-block4") return Simulation.DefaultRule(spec, shape, backend, init, optimizer);
    int index = spec.Layers.ToList().FindIndex(l => l.Name == shape.Layer.Name);
    return index >= firstLearning ? Simulation.DefaultRule(spec with { Rule = "clapp++" }, shape, backend, init, optimizer) : new Frozen();
};

var @base = new JsonObject
{
    ["network"] = "vgg6-cifar-small",
    ["dataset"] = "cifar10",
    ["epochs"] = double.Parse(Arg("--epochs") ?? "1", System.Globalization.CultureInfo.InvariantCulture),
    ["probe"] = new JsonObject { ["protocol"] = "fast", ["epochs"] = 20, ["perLayer"] = true },
};
if (smoke)
{
    @base.Remove("epochs");
    @base["steps"] = 2;
    @base["batch"] = 4;
    @base["probe"] = new JsonObject { ["protocol"] = "fast", ["epochs"] = 1, ["trainImages"] = 64, ["testImages"] = 32 };
}
var comparison = ComparisonSpec.Create("custom-rule", @base,
[
    new VariantSpec("CLAPP++ everywhere", new JsonObject { ["rule"] = "clapp++" }, Untrained: false),
    new VariantSpec("frozen below block4", new JsonObject { ["rule"] = "frozen-below-block4" }, Untrained: false),
    new VariantSpec("random init", new JsonObject(), Untrained: true),
], seeds: smoke ? [2] : [2, 3]);
string folder = Arg("--out") ?? Path.Combine("runs", "scripts", "custom-rule");
var rows = Comparison.Run(comparison, Arg("--data"), folder, Console.WriteLine, rules: rules, overwrite: args.Contains("--overwrite"));
Console.WriteLine();
Console.WriteLine(ComparisonReport.Table(comparison, rows));

/// <summary>Leaves its layer as it is: no loss, a zero update (AdamW without weight decay then moves nothing).</summary>
sealed class Frozen : ILocalRule
{
    public string Name => "frozen";
    public RuleSignals Needs => RuleSignals.None;

    public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
    {
        view.Backend.Fill(gradWeight, 0f);
        if (gradBias is not null) view.Backend.Fill(gradBias, 0f);
        return double.NaN;
    }

    public void Dispose() { }
}
