using Plastic.Sim.Theory;

namespace Plastic.Cli;

/// <summary>A theory figure as a PNG: cosine of weight updates per layer, one line per curve, 95% error bars.</summary>
public static class TheoryPlot
{
    public static void Save(string path, TheoryFigure figure, IReadOnlyList<TheoryCurveResult> results)
    {
        var plot = new ScottPlot.Plot();
        foreach (var curve in results)
        {
            double[] xs = Enumerable.Range(1, curve.Layers.Count).Select(i => (double)i).ToArray();
            double[] ys = curve.Layers.Select(l => l.Cosine).ToArray();
            double[] errors = curve.Layers.Select(l => double.IsFinite(l.Interval95) ? l.Interval95 : 0).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = curve.Curve.Name;
            var bars = plot.Add.ErrorBar(xs, ys, errors);
            bars.Color = line.Color;
        }
        plot.Title(figure.Title);
        plot.XLabel("Layer");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
        plot.YLabel("Cosine similarity of weight updates (local vs backprop)");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.Axes.SetLimitsY(Math.Min(-0.05, results.SelectMany(c => c.Layers).Min(l => l.Cosine) - 0.05), 1.05);
        plot.SavePng(path, 900, 600);
    }
}
