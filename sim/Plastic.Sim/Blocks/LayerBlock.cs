using Plastic.Compute;
using Plastic.Rules;
using Plastic.Topology;

namespace Plastic.Sim.Blocks;

/// <summary>
/// The math of one layer, shared by local-learning and backprop layer actors: a convolution or a
/// linear map (+ bias), the activation, and the optional max-pool, forward and backward, on one
/// backend. It owns its parameters and the activations of the last forward pass (needed by the
/// backward pass and by local rules); it never sees another layer's tensors.
/// </summary>
public sealed class LayerBlock : IDisposable
{
    private readonly IComputeBackend _b;
    private readonly ConvGeometry _conv;
    private readonly PoolGeometry? _pool;
    private BatchBuffers? _buffers;

    public LayerBlock(IComputeBackend backend, LayerShape shape, RandomStream init)
    {
        _b = backend;
        Shape = shape;
        var l = shape.Layer;
        _conv = new ConvGeometry(l.Kernel, l.Stride, l.Padding);
        _pool = l.MaxPool is { } k ? new PoolGeometry(k) : null;
        using var weights = TensorKinds.Use(TensorKind.Weights);
        Weight = l.Kind == LayerKind.Conv
            ? backend.Allocate(new Shape(l.Width, shape.Input.Channels, l.Kernel, l.Kernel))
            : backend.Allocate(new Shape(l.Width, shape.Input.Size));
        Bias = l.Bias ? backend.Allocate(new Shape(l.Width)) : null;
        // PyTorch's default for Conv2d and Linear (kaiming_uniform with a = sqrt 5): U(+-1/sqrt(fan_in)), bias too.
        float bound = 1f / MathF.Sqrt(Weight.Length / l.Width);
        backend.FillUniform(Weight, init.Derive(0), -bound, bound);
        if (Bias is not null) backend.FillUniform(Bias, init.Derive(1), -bound, bound);
    }

    public LayerShape Shape { get; }
    public LayerSpec Spec => Shape.Layer;
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    /// <summary>The last forward pass: its input (not owned), pre-activation and output.</summary>
    public Tensor Input => Buffers().Input ?? throw new InvalidOperationException($"Layer '{Spec.Name}': no forward pass yet.");
    public Tensor PreActivation => Buffers().Pre;
    public Tensor Output => Buffers().Output;

    /// <summary>Runs the block on a batch [N, ...input shape]; the result is <see cref="Output"/>, owned by the block.</summary>
    public Tensor Forward(Tensor input)
    {
        int n = input.Shape[0];
        if (input.Length != n * Shape.Input.Size)
            throw new ShapeMismatchException($"Layer '{Spec.Name}': input {input.Shape} does not hold {n} samples of {Shape.Input}.");
        var buf = BuffersFor(n);
        buf.Input = input;
        if (Spec.Kind == LayerKind.Conv)
        {
            _b.Conv2dForward(input.Shape.Rank == 4 ? input : input.Reshape(ImageShape(n, Shape.Input)), Weight, Bias, buf.Pre, _conv);
        }
        else
        {
            _b.Gemm(Flat(input, n), false, Weight, true, buf.Pre);
            if (Bias is not null) _b.AddBias(buf.Pre, Bias);
        }
        bool relu = Spec.Activation == Activation.Relu;
        if (_pool is { } pool)
        {
            // Pool first, then the ReLU on the pooled output: max is monotone, so relu(max(pre)) = max(relu(pre)) value
            // for value, and where a window's maximum is positive its argmax is the same. One pass over the activation
            // instead of two, and no post-activation kept; the backward masks by pre > 0, which is post > 0.
            _b.MaxPool2dForward(buf.Pre, buf.Output, buf.Argmax!, pool);
            if (relu) _b.Relu(buf.Output, buf.Output);
        }
        else if (relu) _b.Relu(buf.Pre, buf.Post);
        return buf.Output;
    }

    /// <summary>
    /// The last output's loss features on the host, [rows, LossFeatures.Size]: the output average-pooled
    /// with the spec's loss-pool kernel and flattened (what the theory and the probes read).
    /// </summary>
    public float[] LossFeatures()
    {
        var output = Output;
        if (Spec.LossPool is not { } k || output.Shape.Rank != 4) return output.ToArray();
        var s = Shape.LossFeatures;
        using var pooled = _b.Allocate(new Shape(output.Shape[0], s.Channels, s.Height, s.Width));
        _b.AvgPool2dForward(output, pooled, new PoolGeometry(k));
        return pooled.ToArray();
    }

    /// <summary>
    /// The layer's synapses alone on another input of its input shape: pre = W x + b, without the
    /// activation or the pool. Rules that score other inputs than the forward pass's (Forward-Forward's
    /// negatives, SCFF's pairs) use it; it reads nothing but this layer's own weights.
    /// </summary>
    public void Synapses(Tensor input, Tensor pre)
    {
        int n = input.Shape[0];
        if (input.Length != n * Shape.Input.Size || pre.Length != n * Shape.Activation.Size)
            throw new ShapeMismatchException($"Layer '{Spec.Name}': Synapses takes {n} samples of {Shape.Input} to {Shape.Activation}, got {input.Shape} and {pre.Shape}.");
        if (Spec.Kind == LayerKind.Conv)
        {
            _b.Conv2dForward(input.Reshape(ImageShape(n, Shape.Input)), Weight, Bias, pre.Reshape(ImageShape(n, Shape.Activation)), _conv);
            return;
        }
        var flat = pre.Reshape(new Shape(n, Shape.Activation.Size));
        _b.Gemm(Flat(input, n), false, Weight, true, flat);
        if (Bias is not null) _b.AddBias(flat, Bias);
    }

    /// <summary>
    /// The Hebbian product behind every weight update: dW = sum over samples (and positions) of
    /// gradPre (post) x input (pre), db = sum of gradPre; overwritten, or added with <paramref name="accumulate"/>.
    /// </summary>
    public void SynapseGradient(Tensor input, Tensor gradPre, Tensor gradWeight, Tensor? gradBias, bool accumulate)
    {
        int n = input.Shape[0];
        if (Spec.Kind == LayerKind.Conv)
        {
            _b.Conv2dBackwardWeight(input.Reshape(ImageShape(n, Shape.Input)), gradPre.Reshape(ImageShape(n, Shape.Activation)), gradWeight, gradBias, _conv, accumulate);
            return;
        }
        var flat = gradPre.Reshape(new Shape(n, Shape.Activation.Size));
        _b.Gemm(flat, true, Flat(input, n), false, gradWeight, beta: accumulate ? 1f : 0f);
        if (gradBias is not null) _b.BiasGradient(flat, gradBias, accumulate);
    }

    /// <summary>
    /// Backward through pool, activation and the linear map: writes dL/dW (and dL/db) into the given
    /// tensors and, when <paramref name="gradInput"/> is given, dL/dx.
    /// </summary>
    public void Backward(Tensor gradOutput, Tensor gradWeight, Tensor? gradBias, Tensor? gradInput)
    {
        var gradPre = BackwardInput(gradOutput, gradInput);
        BackwardWeights(gradPre, gradWeight, gradBias);
    }

    /// <summary>
    /// The first half of the backward pass: the gradient at the pre-activation (returned, for
    /// <see cref="BackwardWeights"/>) and, when asked for, at the input. Split so that a backprop layer can
    /// send its input gradient down before it computes its own weight gradient.
    /// </summary>
    public Tensor BackwardInput(Tensor gradOutput, Tensor? gradInput)
    {
        var buf = Buffers();
        if (gradOutput.Shape != buf.Output.Shape)
            throw new ShapeMismatchException($"Layer '{Spec.Name}': gradOutput {gradOutput.Shape} does not match the output {buf.Output.Shape}.");
        var gradPre = GradientOfPreActivation(gradOutput);
        if (gradInput is null) return gradPre;
        int n = buf.Pre.Shape[0];
        if (Spec.Kind == LayerKind.Conv) _b.Conv2dBackwardInput(gradPre, Weight, gradInput.Reshape(ImageShape(n, Shape.Input)), _conv);
        else _b.Gemm(gradPre, false, Weight, false, Flat(gradInput, n));
        return gradPre;
    }

    /// <summary>The second half: weight and bias gradients from the pre-activation gradient of <see cref="BackwardInput"/> and the last input.</summary>
    public void BackwardWeights(Tensor gradPre, Tensor gradWeight, Tensor? gradBias)
    {
        int n = Buffers().Pre.Shape[0];
        var input = Input;
        if (Spec.Kind == LayerKind.Conv)
        {
            var image = input.Shape.Rank == 4 ? input : input.Reshape(ImageShape(n, Shape.Input));
            _b.Conv2dBackwardWeight(image, gradPre, gradWeight, gradBias, _conv);
        }
        else
        {
            _b.Gemm(gradPre, true, Flat(input, n), false, gradWeight);
            if (gradBias is not null) _b.BiasGradient(gradPre, gradBias);
        }
    }

    /// <summary>What a local rule may see of this layer for the current step (the last forward pass).</summary>
    public LocalView ViewForRule(int batchSize, ReadOnlyMemory<int> negatives, Tensor? topDown, long step = 0) => new()
    {
        Backend = _b,
        Step = step,
        BatchSize = batchSize,
        Input = Input,
        PreActivation = PreActivation,
        Output = Output,
        Weight = Weight,
        Bias = Bias,
        Negatives = negatives,
        TopDown = topDown,
        PostSynaptic = GradientOfPreActivation,
        Synapses = Synapses,
        SynapseGradient = SynapseGradient,
    };

    /// <summary>dL/d(pre-activation) from dL/d(output): back through the max-pool (argmax routing) and the ReLU mask.</summary>
    public Tensor GradientOfPreActivation(Tensor gradOutput)
    {
        var buf = Buffers();
        var gradPost = gradOutput;
        if (_pool is { } relupool && Spec.Activation == Activation.Relu)
        {
            _b.MaxPool2dReluBackward(gradOutput, buf.Argmax!, buf.Pre, buf.GradPre, relupool);
            return buf.GradPre;
        }
        if (_pool is { } pool)
        {
            _b.MaxPool2dBackward(gradOutput, buf.Argmax!, buf.GradPost, pool);
            gradPost = buf.GradPost;
        }
        if (Spec.Activation == Activation.Identity) return gradPost;
        _b.ReluBackward(gradPost, buf.Post, buf.GradPre);
        return buf.GradPre;
    }

    private static Shape ImageShape(int n, FeatureShape s) => new(n, s.Channels, s.Height, s.Width);
    private static Tensor Flat(Tensor t, int n) => t.Shape.Rank == 2 ? t : t.Reshape(new Shape(n, t.Length / n));

    private BatchBuffers Buffers() => _buffers ?? throw new InvalidOperationException($"Layer '{Spec.Name}': no forward pass yet.");

    private BatchBuffers BuffersFor(int n)
    {
        if (_buffers?.BatchSize == n) return _buffers;
        _buffers?.Dispose();
        return _buffers = new BatchBuffers(_b, this, n);
    }

    /// <summary>
    /// Frees the activations kept for the update (and the gradient scratch beside them): a local layer
    /// calls it once its update is done, so that it keeps no activation between steps. The next forward
    /// pass allocates them again.
    /// </summary>
    public void ReleaseActivations()
    {
        _buffers?.Dispose();
        _buffers = null;
    }

    public void Dispose()
    {
        _buffers?.Dispose();
        Weight.Dispose();
        Bias?.Dispose();
    }

    /// <summary>Activations for one batch size, reused from step to step.</summary>
    private sealed class BatchBuffers : IDisposable
    {
        public BatchBuffers(IComputeBackend b, LayerBlock block, int n)
        {
            BatchSize = n;
            var s = block.Shape;
            bool conv = block.Spec.Kind == LayerKind.Conv;
            Shape act = conv ? ImageShape(n, s.Activation) : new Shape(n, s.Activation.Size);
            GradPre = b.Allocate(act); // scratch: the gradient is used within the update
            using var kept = TensorKinds.Use(TensorKind.Activations);
            Pre = b.Allocate(act);
            // A ReLU behind a pool is applied to the pooled output (see Forward): only an unpooled ReLU keeps its own.
            bool relu = block.Spec.Activation == Activation.Relu;
            Post = relu && block._pool is null ? b.Allocate(act) : Pre;
            // The gradient at the post-activation shares GradPre's memory: behind a ReLU and a pool both are
            // computed in one pass (MaxPool2dReluBackward), and without a ReLU they are the same gradient.
            GradPost = GradPre;
            if (block._pool is not null)
            {
                Output = b.Allocate(ImageShape(n, s.Output));
                Argmax = b.AllocateIndices(Output.Shape);
            }
            else
            {
                Output = Post;
            }
        }

        public int BatchSize { get; }
        public Tensor? Input { get; set; }
        public Tensor Pre { get; }
        public Tensor Post { get; }
        public Tensor Output { get; }
        public IndexTensor? Argmax { get; }
        public Tensor GradPre { get; }
        public Tensor GradPost { get; }

        public void Dispose()
        {
            foreach (var t in new[] { Pre, Post, Output, GradPre, GradPost }.Distinct()) t.Dispose();
            Argmax?.Dispose();
        }
    }
}
