namespace Plastic.Topology;

/// <summary>
/// Checks a spec before anything runs and infers every layer's shapes. Each error names the source
/// (file), the layer (index and name) and the field, and says what was expected.
/// </summary>
public static class NetworkValidator
{
    public static IReadOnlyList<LayerShape> Validate(NetworkSpec spec, string? source = null)
    {
        string where = source is null ? "" : $"{source}: ";
        if (string.IsNullOrWhiteSpace(spec.Name)) throw new SpecException($"{where}field 'name' is empty.");
        if (string.IsNullOrWhiteSpace(spec.Rule)) throw new SpecException($"{where}field 'rule' is empty; name the default learning rule.");
        if (spec.Input.Channels < 1 || spec.Input.Height < 1 || spec.Input.Width < 1)
            throw new SpecException($"{where}field 'input' is {spec.Input}; every size must be at least 1.");
        if (spec.Layers.Count == 0) throw new SpecException($"{where}field 'layers' is empty; a network needs at least one layer.");

        var shapes = new List<LayerShape>();
        var names = new HashSet<string>();
        var current = new FeatureShape(spec.Input.Channels, spec.Input.Height, spec.Input.Width);
        // Convolutions need a spatial input: an image, or the output of another convolution.
        bool spatial = spec.Input.IsImage;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var layer = spec.Layers[i];
            string at = $"{where}layer {i + 1} '{layer.Name}'";
            if (string.IsNullOrWhiteSpace(layer.Name)) throw new SpecException($"{where}layer {i + 1}: field 'name' is empty.");
            if (!names.Add(layer.Name)) throw new SpecException($"{at}: field 'name' repeats an earlier layer's name.");
            if (layer.Rule is not null && string.IsNullOrWhiteSpace(layer.Rule)) throw new SpecException($"{at}: field 'rule' is empty; omit it to use the network's rule.");
            AtLeast(at, "width", layer.Width, 1);
            if (layer.Kind == LayerKind.Conv && !spatial)
                throw new SpecException($"{at}: a conv layer needs a spatial input, but its input is a vector of {current.Size} ({(i == 0 ? "the network input" : "a linear layer is below it")}).");
            var shape = layer.Kind == LayerKind.Conv ? Conv(at, layer, current) : Linear(at, layer, current);
            // A tensor is one buffer indexed by an int: a layer whose weights or outputs do not fit cannot be built.
            if (shape.Weights > int.MaxValue || (long)shape.Activation.Channels * shape.Activation.Height * shape.Activation.Width > int.MaxValue)
                throw new SpecException($"{at}: {shape.Weights:N0} weights and {(long)shape.Activation.Channels * shape.Activation.Height * shape.Activation.Width:N0} outputs per sample; one tensor holds at most {int.MaxValue:N0} values (reduce 'width').");
            spatial = layer.Kind == LayerKind.Conv;
            shapes.Add(shape);
            current = shape.Output;
        }
        CheckFeedback(spec, where);
        return shapes;
    }

    private static LayerShape Conv(string at, LayerSpec layer, FeatureShape input)
    {
        AtLeast(at, "kernel", layer.Kernel, 1);
        AtLeast(at, "stride", layer.Stride, 1);
        AtLeast(at, "padding", layer.Padding, 0);
        int h = Span(at, "kernel", input.Height + 2 * layer.Padding, layer.Kernel, layer.Stride, "input height with padding");
        int w = Span(at, "kernel", input.Width + 2 * layer.Padding, layer.Kernel, layer.Stride, "input width with padding");
        var activation = new FeatureShape(layer.Width, h, w);
        var output = activation;
        if (layer.MaxPool is { } pool)
        {
            AtLeast(at, "maxPool", pool, 1);
            output = new FeatureShape(layer.Width, Span(at, "maxPool", h, pool, pool, "activation height"), Span(at, "maxPool", w, pool, pool, "activation width"));
        }
        var loss = output;
        if (layer.LossPool is { } lossPool)
        {
            AtLeast(at, "lossPool", lossPool, 1);
            loss = new FeatureShape(layer.Width, Span(at, "lossPool", output.Height, lossPool, lossPool, "output height"), Span(at, "lossPool", output.Width, lossPool, lossPool, "output width"));
        }
        long weights = (long)layer.Width * input.Channels * layer.Kernel * layer.Kernel + (layer.Bias ? layer.Width : 0);
        return new LayerShape(layer, input, activation, output, loss, weights);
    }

    private static LayerShape Linear(string at, LayerSpec layer, FeatureShape input)
    {
        if (layer.MaxPool is not null) throw new SpecException($"{at}: field 'maxPool' is set on a linear layer; only conv layers pool.");
        if (layer.LossPool is not null) throw new SpecException($"{at}: field 'lossPool' is set on a linear layer; only conv layers pool.");
        // A linear layer flattens whatever it receives.
        var output = new FeatureShape(layer.Width, 1, 1);
        long weights = (long)layer.Width * input.Size + (layer.Bias ? layer.Width : 0);
        return new LayerShape(layer, input, output, output, output, weights);
    }

    private static void CheckFeedback(NetworkSpec spec, string where)
    {
        var index = spec.Layers.Select((l, i) => (l.Name, i)).ToDictionary(x => x.Name, x => x.i);
        for (int e = 0; e < spec.Feedback.Count; e++)
        {
            var edge = spec.Feedback[e];
            string at = $"{where}feedback edge {e + 1} ({edge.From} -> {edge.To})";
            if (edge.Kind != EdgeKind.DirectFeedback)
                throw new SpecException($"{at}: field 'kind' is {edge.Kind}; only direct-feedback edges are declared (forward edges join consecutive layers).");
            if (!index.TryGetValue(edge.From, out int from))
                throw new SpecException($"{at}: field 'from' names layer '{edge.From}', which does not exist. Layers: {string.Join(", ", index.Keys)}.");
            if (!index.TryGetValue(edge.To, out int to))
                throw new SpecException($"{at}: field 'to' names layer '{edge.To}', which does not exist. Layers: {string.Join(", ", index.Keys)}.");
            if (from <= to)
                throw new SpecException($"{at}: a feedback edge runs top-down, so 'from' (layer {from + 1}) must be above 'to' (layer {to + 1}).");
        }
        var repeated = spec.Feedback.GroupBy(x => (x.From, x.To)).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
            throw new SpecException($"{where}feedback edge {repeated.Key.From} -> {repeated.Key.To} is declared {repeated.Count()} times.");
    }

    private static void AtLeast(string at, string field, int value, int minimum)
    {
        if (value < minimum) throw new SpecException($"{at}: field '{field}' is {value}; it must be at least {minimum}.");
    }

    /// <summary>Output size of a window sliding over <paramref name="size"/>; fails when the window does not fit.</summary>
    private static int Span(string at, string field, int size, int window, int stride, string what)
    {
        if (window > size)
            throw new SpecException($"{at}: field '{field}' is {window}, larger than the {what} ({size}); the shapes do not chain.");
        return (size - window) / stride + 1;
    }
}
