using System.Collections.Immutable;
using Plastic.Sim;

namespace Plastic.Experiments;

/// <summary>PNG plots of a run: the loss of every reporting node per step, alignment per layer, online-probe accuracy per step.</summary>
public static class RunPlots
{
    /// <summary>One line per node (layers, or the backprop graph's loss node), smoothed over 20 steps; steps without a loss are skipped.</summary>
    public static void Losses(string path, string title, IReadOnlyDictionary<string, ImmutableArray<double>> losses, IEnumerable<string> order)
    {
        var plot = new ScottPlot.Plot();
        foreach (var node in order.Where(losses.ContainsKey))
        {
            var values = losses[node];
            var xs = new List<double>();
            var ys = new List<double>();
            for (int step = 0; step < values.Length; step++)
            {
                var window = Enumerable.Range(Math.Max(0, step - 19), Math.Min(20, step + 1)).Select(i => values[i]).Where(v => !double.IsNaN(v)).ToList();
                if (double.IsNaN(values[step]) || window.Count == 0) continue;
                xs.Add(step);
                ys.Add(window.Average());
            }
            if (xs.Count == 0) continue;
            var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray());
            line.LegendText = node;
        }
        plot.Title(title);
        plot.XLabel("Step");
        plot.YLabel("Loss (mean of the last 20 steps)");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 900, 550);
    }

    /// <summary>Cosine of the local and backprop weight updates per layer (mean and 95% interval), one line per run.</summary>
    public static void Alignment(string path, string title, IReadOnlyList<(string Name, IReadOnlyList<LayerAlignmentSummary> Layers)> runs)
    {
        var plot = new ScottPlot.Plot();
        // One palette colour per run: the error bars would otherwise take colours too, and runs would repeat them.
        var palette = new ScottPlot.Palettes.Category10();
        foreach (var ((name, layers), index) in runs.Where(r => r.Layers.Count > 0).Select((r, i) => (r, i)))
        {
            double[] xs = Enumerable.Range(1, layers.Count).Select(i => (double)i).ToArray();
            var line = plot.Add.Scatter(xs, layers.Select(l => l.Cosine).ToArray(), palette.GetColor(index));
            line.LegendText = name;
            var bars = plot.Add.ErrorBar(xs, layers.Select(l => l.Cosine).ToArray(), layers.Select(l => double.IsFinite(l.Interval95) ? l.Interval95 : 0).ToArray());
            bars.Color = line.Color;
        }
        plot.Title(title);
        plot.XLabel("Layer");
        plot.YLabel("Cosine of local and backprop updates");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 900, 550);
    }

    /// <summary>Online-probe accuracy against training step, one line per run (final and best epoch of each quick probe).</summary>
    public static void OnlineProbe(string path, string title, IReadOnlyList<(string Name, IReadOnlyList<Plastic.Sim.Probes.OnlinePoint> Points)> runs)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (name, points) in runs.Where(r => r.Points.Count > 0))
        {
            var line = plot.Add.Scatter(points.Select(p => (double)p.Step).ToArray(), points.Select(p => p.FinalAccuracy * 100).ToArray());
            line.LegendText = name;
        }
        plot.Title(title);
        plot.XLabel("Step");
        plot.YLabel("Online-probe test accuracy (%), final epoch");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 900, 550);
    }
}
