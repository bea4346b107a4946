using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Plastic.Compute;
using Plastic.Datasets.Idx;
using Plastic.Datasets.Numpy;
using Plastic.Sim;
using Plastic.Sim.Theory;

namespace Plastic.Cli;

/// <summary>
/// `plastic theory fig2|fig3a|fig4b`: the paper's deep-linear theory experiments (PAPER.md 2.7), per
/// layer the cosine of local and backprop weight updates (and error signals) with 95% intervals over
/// batches; a table, CSV, JSON and a PNG plot per figure.
/// </summary>
public static class TheoryCommand
{
    public static Command Build()
    {
        var experiment = new Argument<string>("experiment") { Description = $"Which figure: {string.Join(", ", TheoryFigures.Names)}." };
        var data = new Option<string?>("--data") { Description = "Data root holding mnist/ (default: $PLASTIC_DATA)." };
        var synthetic = new Option<bool>("--synthetic") { Description = "Random two-view inputs instead of MNIST (the theorem holds for any data)." };
        var batches = new Option<int>("--batches") { Description = "Minibatches to average over (PAPER.md: 32).", DefaultValueFactory = _ => 32 };
        var batch = new Option<int>("--batch") { Description = "Images per minibatch (PAPER.md: 32; fig2 and fig3a make two patch pairs per image).", DefaultValueFactory = _ => 32 };
        var lambda = new Option<double>("--lambda") { Description = "lambda of (lambda/2)|B|^2, the same in every layer and the backprop loss.", DefaultValueFactory = _ => TheoryFigures.DefaultLambda };
        var seed = new Option<ulong>("--seed") { Description = "Seed of weights, B initialisation and augmentations.", DefaultValueFactory = _ => 2UL };
        var output = new Option<string?>("--out") { Description = "Folder for <experiment>.csv, .json and .png (default runs/theory)." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON instead of a table." };
        var curveOption = new Option<int?>("--curve") { Description = "Run only this curve (1-based, in the order the table lists them)." };
        var init = new Option<string?>("--init") { Description = "Initial weights from an .npz with arrays W1 .. WL (each layer's weight shape); replaces the curves' initialisation." };
        var inputs = new Option<string?>("--inputs") { Description = "Inputs from a .npy of shape (2, samples, ...input shape): the two views; batches of --batch samples, negatives = next sample." };
        var dump = new Option<string?>("--dump") { Description = "Write the last batch's weights, local and backprop gradients and optimal B of every curve run to this .npz." };
        var device = PlasticCommand.DeviceOption();
        var command = new Command("theory", "Reproduce the paper's theory figures: local vs backprop updates in deep linear networks.")
        {
            experiment, data, synthetic, batches, batch, lambda, seed, output, json, curveOption, init, inputs, dump, device,
        };
        command.SetAction(parse =>
        {
            var figure = TheoryFigures.ByName(parse.GetValue(experiment)!, parse.GetValue(lambda));
            int count = parse.GetValue(batches), size = parse.GetValue(batch);
            if (count < 1 || size < 2) throw new ArgumentException("--batches must be at least 1 and --batch at least 2.");
            ulong seedValue = parse.GetValue(seed);
            if (parse.GetValue(curveOption) is { } only)
            {
                if (only < 1 || only > figure.Curves.Count)
                    throw new ArgumentException($"--curve {only}: {figure.Name} has curves 1 to {figure.Curves.Count}.");
                figure = figure with { Curves = [figure.Curves[only - 1]] };
            }
            var source = parse.GetValue(inputs) is { } inputPath
                ? ArraySource(inputPath, figure, size, count, out string dataName)
                : Source(figure, parse.GetValue(synthetic), parse.GetValue(data), count, size, seedValue, out dataName);
            // Every curve's initial weights are checked before any curve runs.
            IReadOnlyList<IReadOnlyList<float[]>>? initial = null;
            if (parse.GetValue(init) is { } initPath)
            {
                var arrays = TheoryWeights.Read(initPath, figure.Curves);
                initial = figure.Curves.Select(c => TheoryWeights.FromArrays(arrays, c, initPath)).ToList();
            }
            string folder = parse.GetValue(output) ?? Path.Combine("runs", "theory");
            Directory.CreateDirectory(folder);
            bool quiet = parse.GetValue(json);
            // Progress rewrites one line of a terminal; a redirected stderr gets the summary line only.
            bool progress = !quiet && !Console.IsErrorRedirected;

            var clock = Stopwatch.StartNew();
            var results = new List<TheoryCurveResult>();
            using (var backend = BackendCatalog.Create(parse.GetValue(device)))
                for (int c = 0; c < figure.Curves.Count; c++)
                {
                    var curve = figure.Curves[c];
                    if (progress) Console.Error.Write($"\r{curve.Name} ...".PadRight(70));
                    results.Add(TheoryRunner.Run(curve, figure.Lambda, source, count, seedValue, backend,
                        progress ? p => Console.Error.Write($"\r{p}".PadRight(70)) : null, initial?[c]));
                }
            if (!quiet) Console.Error.WriteLine($"{(progress ? "\r" : "")}{figure.Name}: {figure.Curves.Count} curves x {count} batches in {clock.Elapsed.TotalSeconds:F1} s".PadRight(70));

            WriteCsv(Path.Combine(folder, $"{figure.Name}.csv"), results);
            var summary = Summary(figure, results, dataName, count, size, clock.Elapsed.TotalSeconds);
            File.WriteAllText(Path.Combine(folder, $"{figure.Name}.json"), summary);
            TheoryPlot.Save(Path.Combine(folder, $"{figure.Name}.png"), figure, results);
            if (parse.GetValue(dump) is { } dumpPath) Npy.WriteNpz(dumpPath, Dump(results));
            if (quiet)
            {
                Console.WriteLine(summary);
                return 0;
            }
            Console.WriteLine($"{figure.Title}; data {dataName}, {count} batches of {size}, lambda {figure.Lambda}");
            Console.WriteLine($"{"curve",-48} {"layer",-5} {"cosine",10} {"+-95%",9} {"norm ratio",11} {"error cos",10} {"|dW_l - dW_bp|",15} {"B grad norm",12}");
            foreach (var r in results.SelectMany(c => c.Layers))
                Console.WriteLine($"{r.Curve,-48} {r.Layer,-5} {r.Cosine,10:F6} {r.Interval95,9:E1} {r.NormRatio,11:F6} {r.ErrorCosine,10:F6} {r.FrobeniusDistance,15:E3} {r.WorstBGradientNorm,12:E1}");
            Console.WriteLine($"wrote {folder}/{figure.Name}.csv, .json, .png");
            return 0;
        });
        return command;
    }

    private static IBatchSource Source(TheoryFigure figure, bool synthetic, string? dataRoot, int batches, int size, ulong seed, out string name)
    {
        if (synthetic)
        {
            name = "synthetic";
            int samples = figure.Data == "mnist-patches" ? 2 * size : size;
            return new SyntheticBatches(figure.Input, samples, seed);
        }
        string root = dataRoot ?? Environment.GetEnvironmentVariable("PLASTIC_DATA")
            ?? throw new ArgumentException($"{figure.Name} needs MNIST: pass --data <root with mnist/> or set PLASTIC_DATA, or run with --synthetic.");
        IdxArray images;
        try
        {
            images = Mnist.LoadImages(root, batches * size);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
        {
            throw new ArgumentException($"{figure.Name}: {e.Message}");
        }
        name = $"MNIST (first {batches * size} training images, {Path.GetFileName(Mnist.ImagesPath(root))} under the data root)";
        return figure.Data == "mnist-patches" ? new MnistPatchPairs(images, size) : new MnistCropPairs(images, size, seed);
    }

    /// <summary>Inputs from a .npy (2, samples, ...): the sample shape must be the figure's input.</summary>
    private static IBatchSource ArraySource(string path, TheoryFigure figure, int size, int batches, out string name)
    {
        NpyArray array;
        try { array = Npy.ReadFile(path); }
        catch (Exception e) when (e is IOException or InvalidDataException) { throw new ArgumentException($"--inputs {e.Message}"); }
        var source = new ArrayPairs(array.Values, array.Shape, size, path);
        int[] expected = figure.Input.IsImage ? [figure.Input.Channels, figure.Input.Height, figure.Input.Width] : [figure.Input.Channels * figure.Input.Height * figure.Input.Width];
        if (!source.SampleShape.SequenceEqual(expected))
            throw new ArgumentException($"--inputs {path}: samples of shape ({string.Join(", ", source.SampleShape)}); {figure.Name} takes ({string.Join(", ", expected)}).");
        if (source.Batches < batches)
            throw new ArgumentException($"--inputs {path}: {source.Batches} batches of {size}; --batches asks for {batches}.");
        name = $"{path} ({array.Shape[1]} samples)";
        return source;
    }

    /// <summary>Per curve i (1-based): c{i}_W{l}, c{i}_local_dW{l}, c{i}_bp_dW{l} and, with B optimised, c{i}_B{l}.</summary>
    private static IEnumerable<(string, NpyArray)> Dump(IReadOnlyList<TheoryCurveResult> results)
    {
        for (int c = 0; c < results.Count; c++)
        {
            var r = results[c];
            var shapes = Plastic.Topology.NetworkValidator.Validate(r.Curve.Spec);
            for (int l = 0; l < shapes.Count; l++)
            {
                int[] shape = TheoryWeights.Shape(shapes[l]);
                yield return ($"c{c + 1}_W{l + 1}", NpyArray.Of(r.Weights[l], shape));
                yield return ($"c{c + 1}_local_dW{l + 1}", NpyArray.Of(r.LastGradients[l].Local, shape));
                yield return ($"c{c + 1}_bp_dW{l + 1}", NpyArray.Of(r.LastGradients[l].Backprop, shape));
                if (r.LastB[l] is { } b)
                {
                    int dz = shapes[l].LossFeatures.Size;
                    yield return ($"c{c + 1}_B{l + 1}", NpyArray.Of(b, dz, b.Length / dz));
                }
            }
        }
    }

    private static void WriteCsv(string path, IReadOnlyList<TheoryCurveResult> results)
    {
        var csv = new StringBuilder("curve,batch,layer,cosine,norm_ratio,error_cosine,frobenius_distance\n");
        foreach (var r in results.SelectMany(c => c.Rows))
            csv.Append(CultureInfo.InvariantCulture, $"\"{r.Curve}\",{r.Batch},{r.Layer},{r.Cosine:R},{r.NormRatio:R},{r.ErrorCosine:R},{r.FrobeniusDistance:R}\n");
        File.WriteAllText(path, csv.ToString());
    }

    private static string Summary(TheoryFigure figure, IReadOnlyList<TheoryCurveResult> results, string data, int batches, int size, double seconds)
    {
        static double? Finite(double v) => double.IsFinite(v) ? v : null;
        var doc = new
        {
            experiment = figure.Name, title = figure.Title, data, batches, batch = size, lambda = figure.Lambda, seconds,
            b_solver = "linear f: closed form; otherwise damped Newton on the 2N coefficients of the optimum's span until the stationarity residual is below 1e-13; worst_b_gradient_norm is |grad J(B)| at the result",
            curves = results.Select(c => new
            {
                name = c.Curve.Name, network = c.Curve.Spec.Name, rule = c.Curve.Spec.Rule, orthogonal = c.Curve.Orthogonal, optimal_b = c.Curve.OptimalB,
                layers = c.Layers.Select(l => new
                {
                    layer = l.Layer, cosine = l.Cosine, interval95 = Finite(l.Interval95), norm_ratio = Finite(l.NormRatio),
                    error_cosine = Finite(l.ErrorCosine), error_interval95 = Finite(l.ErrorInterval95), frobenius_distance = l.FrobeniusDistance,
                    worst_b_gradient_norm = Finite(l.WorstBGradientNorm),
                }),
            }),
        };
        var node = JsonSerializer.SerializeToNode(doc, JsonOutput.Options)!.AsObject();
        node["commit"] = Provenance.GitCommit();
        return node.ToJsonString(JsonOutput.Options);
    }
}
