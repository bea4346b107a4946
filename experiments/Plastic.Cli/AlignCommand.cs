using System.CommandLine;
using System.Text.Json;
using Plastic.Compute;
using Plastic.Sim;
using Plastic.Topology;

namespace Plastic.Cli;

/// <summary>
/// `plastic align &lt;spec&gt;`: per layer, the cosine between the local rule's weight update and the
/// backprop update of the top layer's loss (and between their error signals at the layer's output),
/// at initialisation, over several synthetic minibatches: mean and 95% interval (1.96 std /
/// sqrt(batches)), as PAPER.md 2.6 reports them. During training: plastic run --align-every N.
/// </summary>
public static class AlignCommand
{
    public static Command Build()
    {
        var spec = new Argument<string>("spec") { Description = $"A network spec file (JSON) or a preset: {string.Join(", ", Presets.Names)}." };
        var batches = new Option<int>("--batches") { Description = "Minibatches to average over.", DefaultValueFactory = _ => 8 };
        var batch = new Option<int>("--batch") { Description = "Samples per view.", DefaultValueFactory = _ => 16 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of weights, B and data.", DefaultValueFactory = _ => 2UL };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var device = PlasticCommand.DeviceOption();
        var command = new Command("align", "Cosine of each layer's local update with the backprop update (synthetic data, at initialisation).") { spec, batches, batch, seed, json, device };
        command.SetAction(parse =>
        {
            var network = Plastic.Experiments.NetworkResolver.Resolve(parse.GetValue(spec)!);
            int count = parse.GetValue(batches), size = parse.GetValue(batch);
            if (count < 2 || size < 2) throw new ArgumentException("--batches and --batch must be at least 2.");
            using var backend = BackendCatalog.Create(parse.GetValue(device));
            using var meter = new AlignmentMeter(network, backend, parse.GetValue(seed));
            var source = new SyntheticBatches(network.Input, size, parse.GetValue(seed));
            var summary = LayerAlignmentSummary.Of(Enumerable.Range(0, count).SelectMany(i => meter.Measure(source.Batch(i), i)));
            var rows = network.Layers.Zip(summary, (l, s) => new
            {
                layer = l.Name, rule = network.RuleOf(l), cosine = s.Cosine, interval95 = s.Interval95, norm_ratio = s.NormRatio,
                error_cosine = double.IsNaN(s.ErrorCosine) ? (double?)null : s.ErrorCosine,
                error_interval95 = double.IsNaN(s.ErrorInterval95) ? (double?)null : s.ErrorInterval95,
            }).ToList();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { network = network.Name, batches = count, batch = size, layers = rows }, JsonOutput.Options));
                return 0;
            }
            Console.WriteLine($"network {network.Name}: local update vs backprop of the top loss, {count} synthetic batches of {size} x 2 views, at initialisation");
            Console.WriteLine($"{"layer",-10} {"rule",-12} {"cosine",10} {"+-95%",8} {"|local|/|bp|",13} {"error cos",10} {"+-95%",8}");
            foreach (var r in rows)
                Console.WriteLine($"{r.layer,-10} {r.rule,-12} {r.cosine,10:F4} {r.interval95,8:F4} {r.norm_ratio,13:G4} {Format(r.error_cosine),10} {Format(r.error_interval95),8}");
            return 0;
        });
        return command;
    }

    private static string Format(double? value) => value is { } v ? v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture) : "-";
}
