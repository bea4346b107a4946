namespace Plastic.Compute;

/// <summary>
/// Shape and ownership checks written once for every backend; a backend implements only the
/// <c>...Core</c> methods and may assume their arguments are valid.
/// </summary>
public abstract class ComputeBackend : IComputeBackend
{
    public abstract string Name { get; }
    public abstract string DeviceDescription { get; }
    public abstract bool FreesOnDispose { get; }
    public virtual long? DevicePoolPeakBytes => null;

    private readonly TensorTally _tally = new();
    private TensorTally[] _groups = [];

    public long LiveTensorBytes => _tally.LiveBytes;
    public long PeakTensorBytes => _tally.PeakBytes;

    /// <summary>The bytes of each kind of tensor live now.</summary>
    public IReadOnlyDictionary<TensorKind, long> LiveTensorBytesByKind => _tally.LiveBytesByKind;

    /// <summary>The bytes of each kind of tensor live when <see cref="PeakTensorBytes"/> was reached (they sum to it).</summary>
    public IReadOnlyDictionary<TensorKind, long> PeakTensorBytesByKind => _tally.PeakBytesByKind;

    /// <summary>
    /// Counts this backend's tensors in <paramref name="group"/> as well, from now on (call it before the
    /// first allocation): a run gives its nodes' backends one group to see their simultaneous peak.
    /// </summary>
    public void AlsoCountIn(TensorTally group) => _groups = [.. _groups, group];

    public Tensor Allocate(Shape shape)
    {
        var t = AllocateCore(shape);
        t.TrackedKind = TensorKinds.Current;
        t.TrackedBytes = Track((long)shape.Length * sizeof(float), t.TrackedKind);
        return t;
    }

    public IndexTensor AllocateIndices(Shape shape)
    {
        var t = AllocateIndicesCore(shape);
        t.TrackedKind = TensorKinds.Current;
        t.TrackedBytes = Track((long)shape.Length * sizeof(int), t.TrackedKind);
        return t;
    }

    private long Track(long bytes, TensorKind kind)
    {
        _tally.Add(bytes, kind);
        foreach (var group in _groups) group.Add(bytes, kind);
        return bytes;
    }

    /// <summary>Called by a disposed tensor that was allocated here (not by views).</summary>
    internal void Untrack(long bytes, TensorKind kind)
    {
        _tally.Remove(bytes, kind);
        foreach (var group in _groups) group.Remove(bytes, kind);
    }

    protected abstract Tensor AllocateCore(Shape shape);
    protected abstract IndexTensor AllocateIndicesCore(Shape shape);

    public Tensor Upload(ReadOnlySpan<float> data, Shape shape)
    {
        Require.Length("Upload", "data", data.Length, shape.Length);
        var t = Allocate(shape);
        UploadCore(data, t);
        return t;
    }

    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        Own("Upload", destination);
        Require.Length("Upload", "source", source.Length, destination.Length);
        UploadCore(source, destination);
    }

    public void Upload(ReadOnlySpan<int> source, IndexTensor destination)
    {
        Own("Upload", destination);
        Require.Length("Upload", "source", source.Length, destination.Length);
        UploadCore(source, destination);
    }

    public void Download(Tensor source, Span<float> destination)
    {
        Own("Download", source);
        Require.Length("Download", "destination", destination.Length, source.Length);
        DownloadCore(source, destination);
    }

    public void Download(IndexTensor source, Span<int> destination)
    {
        Own("Download", source);
        Require.Length("Download", "destination", destination.Length, source.Length);
        DownloadCore(source, destination);
    }

    protected abstract void UploadCore(ReadOnlySpan<float> source, Tensor destination);
    protected abstract void UploadCore(ReadOnlySpan<int> source, IndexTensor destination);
    protected abstract void DownloadCore(Tensor source, Span<float> destination);
    protected abstract void DownloadCore(IndexTensor source, Span<int> destination);
    public abstract void Synchronize();

    // GEMM --------------------------------------------------------------------------------------
    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, float alpha = 1f, float beta = 0f)
    {
        const string op = "Gemm";
        Own(op, a, b, c);
        Require.Rank(op, "A", a, 2);
        Require.Rank(op, "B", b, 2);
        Require.Rank(op, "C", c, 2);
        int m = transposeA ? a.Shape[1] : a.Shape[0];
        int k = transposeA ? a.Shape[0] : a.Shape[1];
        int kb = transposeB ? b.Shape[1] : b.Shape[0];
        int n = transposeB ? b.Shape[0] : b.Shape[1];
        if (k != kb || c.Shape[0] != m || c.Shape[1] != n)
            throw new ShapeMismatchException(
                $"{op}: op(A){(transposeA ? "=A^T" : "")} of A {a.Shape} is {m}x{k}, op(B){(transposeB ? "=B^T" : "")} of B {b.Shape} is {kb}x{n}, C is {c.Shape}; need inner sizes equal and C {m}x{n}.");
        Require.Distinct(op, "A", a, "C", c);
        Require.Distinct(op, "B", b, "C", c);
        GemmCore(a, transposeA, b, transposeB, c, alpha, beta, m, n, k);
    }

    protected abstract void GemmCore(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, float alpha, float beta, int m, int n, int k);

    // Convolution -------------------------------------------------------------------------------
    public void Conv2dForward(Tensor input, Tensor weight, Tensor? bias, Tensor output, ConvGeometry geometry)
    {
        var dims = CheckConv("Conv2dForward", input, weight, output, geometry, "output");
        if (bias is not null) { Own("Conv2dForward", bias); Require.Shape("Conv2dForward", "bias", bias, new Shape(dims.Cout)); }
        Conv2dForwardCore(input, weight, bias, output, dims);
    }

    public void Conv2dBackwardInput(Tensor gradOutput, Tensor weight, Tensor gradInput, ConvGeometry geometry)
    {
        var dims = CheckConv("Conv2dBackwardInput", gradInput, weight, gradOutput, geometry, "gradOutput");
        Conv2dBackwardInputCore(gradOutput, weight, gradInput, dims);
    }

    public void Conv2dBackwardWeight(Tensor input, Tensor gradOutput, Tensor gradWeight, Tensor? gradBias, ConvGeometry geometry, bool accumulate = false)
    {
        var dims = CheckConv("Conv2dBackwardWeight", input, gradWeight, gradOutput, geometry, "gradOutput");
        if (gradBias is not null) { Own("Conv2dBackwardWeight", gradBias); Require.Shape("Conv2dBackwardWeight", "gradBias", gradBias, new Shape(dims.Cout)); }
        Conv2dBackwardWeightCore(input, gradOutput, gradWeight, gradBias, dims, accumulate);
    }

    protected abstract void Conv2dForwardCore(Tensor input, Tensor weight, Tensor? bias, Tensor output, ConvDims d);
    protected abstract void Conv2dBackwardInputCore(Tensor gradOutput, Tensor weight, Tensor gradInput, ConvDims d);
    protected abstract void Conv2dBackwardWeightCore(Tensor input, Tensor gradOutput, Tensor gradWeight, Tensor? gradBias, ConvDims d, bool accumulate);

    private ConvDims CheckConv(string op, Tensor input, Tensor weight, Tensor output, ConvGeometry g, string outputName)
    {
        Own(op, input, weight, output);
        Require.Rank(op, "input", input, 4);
        Require.Rank(op, "weight", weight, 4);
        Require.Rank(op, outputName, output, 4);
        int n = input.Shape[0], cin = input.Shape[1], h = input.Shape[2], w = input.Shape[3];
        int cout = weight.Shape[0];
        if (weight.Shape[1] != cin || weight.Shape[2] != g.Kernel || weight.Shape[3] != g.Kernel)
            throw new ShapeMismatchException($"{op}: weight {weight.Shape} must be [Cout x {cin} x {g.Kernel} x {g.Kernel}] for input {input.Shape} and geometry {g}.");
        int ho = g.OutputSize(h), wo = g.OutputSize(w);
        Require.Shape(op, outputName, output, new Shape(n, cout, ho, wo));
        return new ConvDims(n, cin, h, w, cout, ho, wo, g.Kernel, g.Stride, g.Padding);
    }

    // Pooling -----------------------------------------------------------------------------------
    public void MaxPool2dForward(Tensor input, Tensor output, IndexTensor argmax, PoolGeometry geometry)
    {
        const string op = "MaxPool2dForward";
        var d = CheckPool(op, input, output, geometry);
        Own(op, argmax);
        if (argmax.Shape != output.Shape)
            throw new ShapeMismatchException($"{op}: argmax has shape {argmax.Shape} but output has shape {output.Shape}; they must match.");
        MaxPool2dForwardCore(input, output, argmax, d);
    }

    public void MaxPool2dBackward(Tensor gradOutput, IndexTensor argmax, Tensor gradInput, PoolGeometry geometry)
    {
        const string op = "MaxPool2dBackward";
        var d = CheckPool(op, gradInput, gradOutput, geometry);
        Own(op, argmax);
        if (argmax.Shape != gradOutput.Shape)
            throw new ShapeMismatchException($"{op}: argmax has shape {argmax.Shape} but gradOutput has shape {gradOutput.Shape}; they must match.");
        MaxPool2dBackwardCore(gradOutput, argmax, gradInput, d);
    }

    public void MaxPool2dReluBackward(Tensor gradOutput, IndexTensor argmax, Tensor post, Tensor gradInput, PoolGeometry geometry)
    {
        const string op = "MaxPool2dReluBackward";
        var d = CheckPool(op, gradInput, gradOutput, geometry);
        Own(op, argmax);
        Own(op, post);
        if (argmax.Shape != gradOutput.Shape)
            throw new ShapeMismatchException($"{op}: argmax has shape {argmax.Shape} but gradOutput has shape {gradOutput.Shape}; they must match.");
        Same(op, post, gradInput);
        MaxPool2dReluBackwardCore(gradOutput, argmax, post, gradInput, d);
    }

    /// <summary>By default the two steps, the ReLU's in place (an elementwise select reads each element before writing it).</summary>
    protected virtual void MaxPool2dReluBackwardCore(Tensor gradOutput, IndexTensor argmax, Tensor post, Tensor gradInput, PoolDims d)
    {
        MaxPool2dBackwardCore(gradOutput, argmax, gradInput, d);
        ReluBackwardCore(gradInput, post, gradInput);
    }

    public void AvgPool2dForward(Tensor input, Tensor output, PoolGeometry geometry) =>
        AvgPool2dForwardCore(input, output, CheckPool("AvgPool2dForward", input, output, geometry));

    public void AvgPool2dBackward(Tensor gradOutput, Tensor gradInput, PoolGeometry geometry) =>
        AvgPool2dBackwardCore(gradOutput, gradInput, CheckPool("AvgPool2dBackward", gradInput, gradOutput, geometry));

    protected abstract void MaxPool2dForwardCore(Tensor input, Tensor output, IndexTensor argmax, PoolDims d);
    protected abstract void MaxPool2dBackwardCore(Tensor gradOutput, IndexTensor argmax, Tensor gradInput, PoolDims d);
    protected abstract void AvgPool2dForwardCore(Tensor input, Tensor output, PoolDims d);
    protected abstract void AvgPool2dBackwardCore(Tensor gradOutput, Tensor gradInput, PoolDims d);

    private PoolDims CheckPool(string op, Tensor input, Tensor output, PoolGeometry g)
    {
        Own(op, input, output);
        Require.Rank(op, "input", input, 4);
        int n = input.Shape[0], c = input.Shape[1], h = input.Shape[2], w = input.Shape[3];
        var expected = new Shape(n, c, g.OutputSize(h), g.OutputSize(w));
        Require.Shape(op, "output", output, expected);
        return new PoolDims(n * c, h, w, expected[2], expected[3], g.Kernel, g.Stride);
    }

    // Activation and bias -----------------------------------------------------------------------
    public void Relu(Tensor x, Tensor y) { Same("Relu", x, y); ReluCore(x, y); }
    public void ReluMask(Tensor y, Tensor mask) { Same("ReluMask", y, mask); ReluMaskCore(y, mask); }
    public void ReluBackward(Tensor gradY, Tensor y, Tensor gradX) { Same("ReluBackward", gradY, y, gradX); ReluBackwardCore(gradY, y, gradX); }
    protected abstract void ReluCore(Tensor x, Tensor y);
    protected abstract void ReluMaskCore(Tensor y, Tensor mask);
    protected abstract void ReluBackwardCore(Tensor gradY, Tensor y, Tensor gradX);

    public void AddBias(Tensor x, Tensor bias)
    {
        var layout = CheckBias("AddBias", x, bias, "x");
        AddBiasCore(x, bias, layout);
    }

    public void BiasGradient(Tensor gradY, Tensor gradBias, bool accumulate = false)
    {
        var layout = CheckBias("BiasGradient", gradY, gradBias, "gradY");
        BiasGradientCore(gradY, gradBias, layout, accumulate);
    }

    protected abstract void AddBiasCore(Tensor x, Tensor bias, BiasLayout layout);
    protected abstract void BiasGradientCore(Tensor gradY, Tensor gradBias, BiasLayout layout, bool accumulate);

    private BiasLayout CheckBias(string op, Tensor x, Tensor bias, string name)
    {
        Own(op, x, bias);
        Require.Rank(op, "bias", bias, 1);
        return x.Shape.Rank switch
        {
            2 when x.Shape[1] == bias.Length => new BiasLayout(x.Shape[0], x.Shape[1], 1),
            4 when x.Shape[1] == bias.Length => new BiasLayout(x.Shape[0], x.Shape[1], x.Shape[2] * x.Shape[3]),
            2 or 4 => throw new ShapeMismatchException($"{op}: bias {bias.Shape} does not match axis 1 of {name} {x.Shape}."),
            _ => throw new ShapeMismatchException($"{op}: {name} must be [N, F] or [N, C, H, W], but has shape {x.Shape}."),
        };
    }

    // Element-wise ------------------------------------------------------------------------------
    public void Add(Tensor a, Tensor b, Tensor y) { Same("Add", a, b, y); BinaryCore(BinaryOp.Add, a, b, y); }
    public void Subtract(Tensor a, Tensor b, Tensor y) { Same("Subtract", a, b, y); BinaryCore(BinaryOp.Subtract, a, b, y); }
    public void Multiply(Tensor a, Tensor b, Tensor y) { Same("Multiply", a, b, y); BinaryCore(BinaryOp.Multiply, a, b, y); }
    public void Scale(Tensor x, float factor, Tensor y) { Same("Scale", x, y); ScaleCore(x, factor, y); }
    public void Axpy(float alpha, Tensor x, Tensor y) { Same("Axpy", x, y); AxpyCore(alpha, x, y); }
    public void Fill(Tensor y, float value) { Own("Fill", y); FillCore(y, value); }
    public void Copy(Tensor source, Tensor destination) { Same("Copy", source, destination); CopyCore(source, destination); }
    protected abstract void BinaryCore(BinaryOp op, Tensor a, Tensor b, Tensor y);
    protected abstract void ScaleCore(Tensor x, float factor, Tensor y);
    protected abstract void AxpyCore(float alpha, Tensor x, Tensor y);
    protected abstract void FillCore(Tensor y, float value);
    protected abstract void CopyCore(Tensor source, Tensor destination);

    public bool TryCopyFromSameDevice(Tensor source, Tensor destination)
    {
        Own("TryCopyFromSameDevice", destination);
        Require.Length("TryCopyFromSameDevice", "source", source.Length, destination.Length);
        return TryCopyFromSameDeviceCore(source, destination);
    }

    /// <summary>A backend whose device other backends share copies there; the default (a host backend) declines.</summary>
    protected virtual bool TryCopyFromSameDeviceCore(Tensor source, Tensor destination) => false;

    public Tensor? Adopt(float[] hostArray, Shape shape)
    {
        Require.Length("Adopt", "hostArray", hostArray.Length, shape.Length);
        if (!HostArrays.IsLent(hostArray))
            throw new ArgumentException($"Adopt: the array of {hostArray.Length} floats is not one lent by HostArrays (a tensor's array must be pinned and its holder's to give).", nameof(hostArray));
        var t = AdoptCore(hostArray, shape);
        if (t is null) return null;
        t.TrackedKind = TensorKinds.Current;
        t.TrackedBytes = Track((long)shape.Length * sizeof(float), t.TrackedKind);
        return t;
    }

    /// <summary>A tensor over the caller's pinned host array (which its disposal gives back to <see cref="HostArrays"/>), or null where tensors are not host memory.</summary>
    protected virtual Tensor? AdoptCore(float[] hostArray, Shape shape) => null;

    // Reductions --------------------------------------------------------------------------------
    public double Sum(Tensor x) { Own("Sum", x); return SumCore(x); }
    public double Dot(Tensor a, Tensor b) { Same("Dot", a, b); return DotCore(a, b); }
    public double SquaredNorm(Tensor x) { Own("SquaredNorm", x); return DotCore(x, x); }
    protected abstract double SumCore(Tensor x);
    protected abstract double DotCore(Tensor a, Tensor b);

    // Losses ------------------------------------------------------------------------------------
    public void LogSoftmax(Tensor logits, Tensor logProbabilities)
    {
        Same("LogSoftmax", logits, logProbabilities);
        Require.Rank("LogSoftmax", "logits", logits, 2);
        LogSoftmaxCore(logits, logProbabilities);
    }

    public double SoftmaxCrossEntropy(Tensor logits, IndexTensor labels, Tensor? gradLogits)
    {
        const string op = "SoftmaxCrossEntropy";
        Own(op, logits);
        Own(op, labels);
        Require.Rank(op, "logits", logits, 2);
        if (labels.Shape != new Shape(logits.Shape[0]))
            throw new ShapeMismatchException($"{op}: labels have shape {labels.Shape}, expected [{logits.Shape[0]}] for logits {logits.Shape}.");
        if (gradLogits is not null) Same(op, logits, gradLogits);
        return SoftmaxCrossEntropyCore(logits, labels, gradLogits);
    }

    protected abstract void LogSoftmaxCore(Tensor logits, Tensor logProbabilities);
    protected abstract double SoftmaxCrossEntropyCore(Tensor logits, IndexTensor labels, Tensor? gradLogits);

    // Optimisers --------------------------------------------------------------------------------
    public void SgdStep(Tensor parameter, Tensor gradient, Tensor? velocity, SgdSettings settings)
    {
        Same("SgdStep", parameter, gradient);
        if (settings.Momentum != 0f)
        {
            if (velocity is null) throw new ArgumentException($"SgdStep: momentum {settings.Momentum} needs a velocity tensor of shape {parameter.Shape}.");
            Same("SgdStep", parameter, velocity);
        }
        SgdStepCore(parameter, gradient, settings.Momentum != 0f ? velocity : null, settings);
    }

    public void AdamWStep(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWSettings settings, int step)
    {
        Same("AdamWStep", parameter, gradient, firstMoment);
        Same("AdamWStep", parameter, secondMoment);
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "AdamWStep: step counts from 1.");
        AdamWStepCore(parameter, gradient, firstMoment, secondMoment, settings, step);
    }

    protected abstract void SgdStepCore(Tensor parameter, Tensor gradient, Tensor? velocity, SgdSettings settings);
    protected abstract void AdamWStepCore(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWSettings settings, int step);

    // Random ------------------------------------------------------------------------------------
    public void FillUniform(Tensor y, RandomStream stream, float low, float high) { Own("FillUniform", y); FillUniformCore(y, stream, low, high); }
    public void FillNormal(Tensor y, RandomStream stream, float mean, float standardDeviation) { Own("FillNormal", y); FillNormalCore(y, stream, mean, standardDeviation); }
    protected abstract void FillUniformCore(Tensor y, RandomStream stream, float low, float high);
    protected abstract void FillNormalCore(Tensor y, RandomStream stream, float mean, float standardDeviation);

    // Helpers -----------------------------------------------------------------------------------
    private void Same(string op, Tensor first, params Tensor[] others)
    {
        Own(op, first);
        for (int i = 0; i < others.Length; i++)
        {
            Own(op, others[i]);
            if (others[i].Shape != first.Shape)
                throw new ShapeMismatchException($"{op}: operand {i + 2} has shape {others[i].Shape} but operand 1 has shape {first.Shape}; they must match.");
        }
    }

    protected void Own(string op, params Tensor[] tensors)
    {
        foreach (var t in tensors)
        {
            ObjectDisposedException.ThrowIf(t.IsDisposed, t);
            if (!ReferenceEquals(t.Backend, this))
                throw new ArgumentException($"{op}: tensor {t.Shape} lives on backend '{t.Backend.Name}', not on '{Name}'. Copy it through the host first.");
        }
    }

    protected void Own(string op, IndexTensor t)
    {
        ObjectDisposedException.ThrowIf(t.IsDisposed, t);
        if (!ReferenceEquals(t.Backend, this))
            throw new ArgumentException($"{op}: index tensor {t.Shape} lives on backend '{t.Backend.Name}', not on '{Name}'.");
    }

    public abstract void Dispose();
}

public enum BinaryOp { Add, Subtract, Multiply }

/// <summary>Resolved sizes of a convolution, after validation.</summary>
public readonly record struct ConvDims(int N, int Cin, int H, int W, int Cout, int Ho, int Wo, int K, int Stride, int Pad)
{
    public int InputImage => Cin * H * W;
    public int OutputImage => Cout * Ho * Wo;
    public int Patch => Cin * K * K;
    public int Pixels => Ho * Wo;
}

/// <summary>Resolved sizes of a pooling, after validation; planes = N * C.</summary>
public readonly record struct PoolDims(int Planes, int H, int W, int Ho, int Wo, int K, int Stride);

/// <summary>How a bias vector lines up with a tensor: outer (rows or batch) x features x inner (pixels).</summary>
public readonly record struct BiasLayout(int Outer, int Features, int Inner);
