#:project ../Plastic.Experiments/Plastic.Experiments.csproj
// The pooling ablation of PAPER.md 2.5 and 5.2: CLAPP++ with its k x k loss pool ("2D spatial
// dependence") against the same loss after global average pooling (GAP), and the untrained encoder, on
// the 1/8-width VGG-6 and CIFAR-10, over three seeds: means with 95 % intervals and paired differences.
// The paper's STL-10 ablation: 78.66 with the k x k pool, 75.10 with GAP (CIFAR-10 with GAP: 73.21, [3P]).
//
//   dotnet run -c Release experiments/scripts/pooling-ablation.cs -- [--data DIR] [--out DIR] [--epochs E] [--smoke] [--overwrite]
//
// --smoke: 2 steps of 4 images and a 1-epoch probe of 64 / 32 images on one seed (what the tests run, to keep the script working).
using System.Text.Json.Nodes;
using Plastic.Experiments.Compare;

string? Arg(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
bool smoke = args.Contains("--smoke");
var @base = new JsonObject
{
    ["network"] = "vgg6-cifar-small",
    ["dataset"] = "cifar10",
    ["epochs"] = double.Parse(Arg("--epochs") ?? "1", System.Globalization.CultureInfo.InvariantCulture),
    ["probe"] = new JsonObject { ["protocol"] = "fast", ["epochs"] = 20, ["knn"] = 20 },
};
if (smoke)
{
    @base.Remove("epochs");
    @base["steps"] = 2;
    @base["batch"] = 4;
    @base["probe"] = new JsonObject { ["protocol"] = "fast", ["epochs"] = 1, ["trainImages"] = 64, ["testImages"] = 32 };
}
var comparison = ComparisonSpec.Create("pooling-ablation", @base,
[
    new VariantSpec("CLAPP++ (k x k loss pool)", new JsonObject { ["rule"] = "clapp++" }, Untrained: false),
    new VariantSpec("CLAPP++ (GAP)", new JsonObject { ["rule"] = "clapp++/gap" }, Untrained: false),
    new VariantSpec("random init", new JsonObject(), Untrained: true),
], seeds: smoke ? [2] : [2, 3, 4], cites: "PAPER.md 5.2: STL-10, CLAPP++ 78.66 against GAP 75.10; CIFAR-10 GAP 73.21 ([3P]).");
string folder = Arg("--out") ?? Path.Combine("runs", "scripts", "pooling-ablation");
var rows = Comparison.Run(comparison, Arg("--data"), folder, Console.WriteLine, overwrite: args.Contains("--overwrite"));
Console.WriteLine();
Console.WriteLine(ComparisonReport.Table(comparison, rows));
