#:project ../Plastic.Experiments/Plastic.Experiments.csproj
// The alignment study of PAPER.md 2.4 and 2.6 on the 1/8-width VGG-6: how well each layer's local update
// lines up with backprop of the top layer's loss (cosine of the weight updates on the same weights and
// minibatch, measured during training), for the lateral reference (CLAPP++: the layer's own other view)
// against direct feedback from the top (CLAPP++DFB) and both. The paper's theory: DFB is closer to backprop
// once widths shrink. Synthetic two-view data, so it needs no data set.
//
//   dotnet run -c Release experiments/scripts/dfb-alignment.cs -- [--steps N] [--out DIR] [--smoke] [--overwrite]
using System.Text.Json.Nodes;
using Plastic.Experiments.Compare;

string? Arg(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
bool smoke = args.Contains("--smoke");
int steps = smoke ? 2 : int.Parse(Arg("--steps") ?? "400", System.Globalization.CultureInfo.InvariantCulture);
var @base = new JsonObject
{
    ["network"] = "vgg6-cifar-small",
    ["dataset"] = "synthetic",
    ["steps"] = steps,
    ["batch"] = smoke ? 4 : 32,
    ["alignEvery"] = Math.Max(1, steps / 10),
};
var comparison = ComparisonSpec.Create("dfb-alignment", @base,
[
    new VariantSpec("lateral (CLAPP++)", new JsonObject { ["rule"] = "clapp++" }, Untrained: false),
    new VariantSpec("direct feedback (CLAPP++DFB)", new JsonObject { ["rule"] = "clapp++dfb", ["network"] = "vgg6-cifar-small-dfb" }, Untrained: false),
    new VariantSpec("both (CLAPP++both)", new JsonObject { ["rule"] = "clapp++both", ["network"] = "vgg6-cifar-small-dfb" }, Untrained: false),
], seeds: smoke ? [2] : [2, 3], cites: "PAPER.md 2.4 (DFB closer to backprop when widths shrink) and 2.6 (the cosine of weight updates).");
string folder = Arg("--out") ?? Path.Combine("runs", "scripts", "dfb-alignment");
var rows = Comparison.Run(comparison, null, folder, Console.WriteLine, overwrite: args.Contains("--overwrite"));
Console.WriteLine();
Console.WriteLine("Mean alignment with backprop per layer (cosine of weight updates, over snapshots and seeds):");
foreach (var group in rows.GroupBy(r => r.Method))
{
    var layers = group.First().Alignment.Select(a => a.Layer).ToList();
    var means = layers.Select((layer, i) => $"{layer} {group.Average(r => r.Alignment[i].Cosine):F3}");
    Console.WriteLine($"  {group.Key,-30} {string.Join("  ", means)}");
}
