using System.CommandLine;
using Plastic.Compute;
using Plastic.Datasets.Numpy;
using Plastic.Sim;
using Plastic.Sim.Steps;
using Plastic.Topology;

namespace Plastic.Cli;

/// <summary>
/// `plastic step`: one training step of a network on given inputs (and optionally given weights,
/// pairing and 50/50 draws), its losses, loss features and gradients before any optimiser step
/// dumped as safetensors with PyTorch names, so that an independent implementation can be checked
/// against it array by array (tests/peers/reference_twin.py).
/// </summary>
public static class StepCommand
{
    public static Command Build()
    {
        var spec = new Argument<string>("spec") { Description = $"A run spec (JSON with a 'network' key: its network, rule, graph and seed), or a network spec file or preset: {string.Join(", ", Presets.Names)}." };
        var rule = new Option<string?>("--rule") { Description = $"The rule (replaces the network's or run spec's): {RulesCommand.Names}, with options after '/' (plastic rules)." };
        var graph = new Option<string?>("--graph") { Description = "local (default) or backprop." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of the initialisation when --weights is not given (default 2, a run's)." };
        var inputs = new Option<string>("--inputs") { Description = "views.npy: float32 [2N, C, H, W], view-1 rows first.", Required = true };
        var negatives = new Option<string?>("--negatives") { Description = "idx.npy: int32 [2N]; row r's negative is row idx[r] of the stacked features (default: (r + 1 + N) mod 2N, the released code's)." };
        var draws = new Option<string?>("--draws") { Description = "d.npy: int [layers, 2N], the 50/50 draws of /either (1: the row makes its negative term); default: each rule's own, written to the dump as <layer>.B.draws." };
        var weights = new Option<string?>("--weights") { Description = "w.safetensors with PyTorch names: <layer>.weight [out, in, k, k], <layer>.bias, <layer>.B, <layer>.B_fb, <layer>.B_lateral2, proj.weight. Default: the seeded initialisation (written into the dump)." };
        var dump = new Option<string>("--dump") { Description = "Where to write the safetensors dump: the parameters used, <layer>.loss, <layer>.features, <name>.grad (backprop: loss, <top>.features).", Required = true };
        var device = PlasticCommand.DeviceOption();
        var command = new Command("step", "One training step on given inputs: losses, loss features and gradients before the optimiser, as safetensors.")
            { spec, rule, graph, seed, inputs, negatives, draws, weights, dump, device };
        command.SetAction(parse =>
        {
            var (network, graphKind, runSeed) = Resolve(parse.GetValue(spec)!, parse.GetValue(rule), parse.GetValue(graph), parse.GetValue(seed));
            var views = Read(parse.GetValue(inputs)!, "--inputs", Npy.ReadFile);
            var pairing = parse.GetValue(negatives) is { } np ? Read(np, "--negatives", ReadNegatives) : null;
            var drawn = parse.GetValue(draws) is { } dp ? Read(dp, "--draws", ReadDraws) : null;
            var given = parse.GetValue(weights) is { } wp ? Read(wp, "--weights", Safetensors.Read) : null;
            using var backend = BackendCatalog.Create(parse.GetValue(device));
            var arrays = OneStep.Run(network, graphKind, runSeed, new StepInputs(views, pairing, drawn, given), backend);
            string path = parse.GetValue(dump)!;
            Safetensors.Write(path, arrays, new Dictionary<string, string>
            {
                ["network"] = network.Name, ["rule"] = network.Rule, ["graph"] = graphKind.ToString().ToLowerInvariant(), ["seed"] = runSeed.ToString(),
            });
            Console.WriteLine($"{network.Name}, rule {network.Rule}, {graphKind.ToString().ToLowerInvariant()} graph, {views.Shape[0]} rows: {arrays.Count} arrays in {path}");
            foreach (var (name, array) in arrays)
                Console.WriteLine(array.Values.Length == 1 && name.EndsWith("loss", StringComparison.Ordinal)
                    ? $"  {name,-28} {array.Values[0]:G9}"
                    : $"  {name,-28} [{string.Join(", ", array.Shape)}]");
            return 0;
        });
        return command;
    }

    private static (NetworkSpec Network, GraphKind Graph, ulong Seed) Resolve(string argument, string? rule, string? graph, ulong? seed)
    {
        NetworkSpec network;
        string graphName = graph ?? "local";
        ulong runSeed = seed ?? 2;
        if (RunSpec.IsRunSpec(argument))
        {
            var run = RunSpec.From(RunSpec.Read(argument), argument);
            network = Plastic.Experiments.NetworkResolver.Resolve(run.Network, Path.GetDirectoryName(Path.GetFullPath(argument))!);
            if (run.Rule is { } r) network = network with { Rule = r };
            graphName = graph ?? run.Graph;
            runSeed = seed ?? run.Seed;
        }
        else
        {
            network = Plastic.Experiments.NetworkResolver.Resolve(argument);
        }
        if (rule is not null) network = network with { Rule = rule };
        var kind = graphName switch
        {
            "local" => GraphKind.Local,
            "backprop" => GraphKind.Backprop,
            _ => throw new ArgumentException($"--graph '{graphName}': choose local or backprop."),
        };
        return (network, kind, runSeed);
    }

    private static int[] ReadNegatives(string path)
    {
        var (shape, values) = Npy.ReadIntegersFile(path);
        return shape.Length == 1 ? values : throw new ArgumentException($"{path}: shape [{string.Join(", ", shape)}], expected [2N] (one negative per row).");
    }

    private static IReadOnlyList<IReadOnlyList<bool>> ReadDraws(string path)
    {
        var (shape, values) = Npy.ReadIntegersFile(path);
        if (shape.Length != 2) throw new ArgumentException($"{path}: shape [{string.Join(", ", shape)}], expected [layers, 2N].");
        return [.. Enumerable.Range(0, shape[0]).Select(l => (IReadOnlyList<bool>)[.. values.Skip(l * shape[1]).Take(shape[1]).Select(v => v != 0)])];
    }

    /// <summary>Reads an input file; a missing or malformed one is a one-line error naming the option and the file.</summary>
    private static T Read<T>(string path, string option, Func<string, T> read)
    {
        if (!File.Exists(path)) throw new ArgumentException($"{option}: no such file '{path}'.");
        try { return read(path); }
        catch (InvalidDataException e) { throw new ArgumentException($"{option}: {e.Message}"); }
    }
}
