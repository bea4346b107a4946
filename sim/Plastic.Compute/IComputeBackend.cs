namespace Plastic.Compute;

/// <summary>
/// Every operation a layer, a learning rule or the backprop baseline needs. Images are NCHW,
/// matrices row-major; conv weights are [Cout, Cin, k, k]. Outputs are overwritten unless the
/// method says it accumulates. Shape errors name the operation and the shapes involved.
/// </summary>
public interface IComputeBackend : IDisposable
{
    /// <summary>The short name used by <c>--device</c>: cpu, cuda, opencl, ilgpu-cpu.</summary>
    string Name { get; }

    /// <summary>Bytes of the tensors allocated on this backend and not yet disposed (views not counted).</summary>
    long LiveTensorBytes { get; }

    /// <summary>The most <see cref="LiveTensorBytes"/> has been since the backend was made.</summary>
    long PeakTensorBytes { get; }

    /// <summary>
    /// On a device that keeps freed buffers for reuse (ILGPU), the most memory those buffers took at once, lent
    /// to tensors and scratch or kept, for every backend on the device together; null where memory is not pooled.
    /// </summary>
    long? DevicePoolPeakBytes { get; }

    /// <summary>The bytes of each <see cref="TensorKind"/> live when <see cref="PeakTensorBytes"/> was reached (they sum to it).</summary>
    IReadOnlyDictionary<TensorKind, long> PeakTensorBytesByKind { get; }

    /// <summary>
    /// Whether disposing a tensor gives its memory back at once (device buffers, to the device's pool, where the
    /// next tensor or scratch buffer of that length takes it), rather than to a garbage collector that returns it
    /// later (the CPU backend's arrays): only then does freeing tensors between steps lower what a run holds; on
    /// the CPU it would only make garbage faster than the collector returns it.
    /// </summary>
    bool FreesOnDispose { get; }

    /// <summary>Also counts this backend's tensors in a tally shared with other backends (call before the first allocation).</summary>
    void AlsoCountIn(TensorTally group);
    string DeviceDescription { get; }

    // Memory ------------------------------------------------------------------------------------
    Tensor Allocate(Shape shape);
    IndexTensor AllocateIndices(Shape shape);
    Tensor Upload(ReadOnlySpan<float> data, Shape shape);
    void Upload(ReadOnlySpan<float> source, Tensor destination);
    void Upload(ReadOnlySpan<int> source, IndexTensor destination);
    void Download(Tensor source, Span<float> destination);
    void Download(IndexTensor source, Span<int> destination);
    /// <summary>Waits until all queued work on this backend has finished.</summary>
    void Synchronize();

    // Linear algebra ----------------------------------------------------------------------------
    /// <summary>C = alpha * op(A) * op(B) + beta * C, with op(X) = X or X^T. All rank 2.</summary>
    void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, float alpha = 1f, float beta = 0f);

    // Convolution -------------------------------------------------------------------------------
    void Conv2dForward(Tensor input, Tensor weight, Tensor? bias, Tensor output, ConvGeometry geometry);
    void Conv2dBackwardInput(Tensor gradOutput, Tensor weight, Tensor gradInput, ConvGeometry geometry);
    /// <summary>Weight (and bias) gradients summed over the batch; overwritten, or added to when <paramref name="accumulate"/>.</summary>
    void Conv2dBackwardWeight(Tensor input, Tensor gradOutput, Tensor gradWeight, Tensor? gradBias, ConvGeometry geometry, bool accumulate = false);

    // Pooling -----------------------------------------------------------------------------------
    /// <summary>Max-pool; <paramref name="argmax"/> (shape of the output) receives each maximum's flat index into the input.</summary>
    void MaxPool2dForward(Tensor input, Tensor output, IndexTensor argmax, PoolGeometry geometry);
    /// <summary>Routes each output gradient to its argmax; gradInput is overwritten (zero elsewhere).</summary>
    void MaxPool2dBackward(Tensor gradOutput, IndexTensor argmax, Tensor gradInput, PoolGeometry geometry);
    /// <summary>
    /// Back through a ReLU followed by a max-pool in one pass: gradOutput routed to the argmax positions
    /// and kept where the ReLU's output <paramref name="post"/> is positive, i.e. ReluBackward of
    /// MaxPool2dBackward, the same numbers without the intermediate gradient. The ReLU's input serves as well
    /// (it is positive exactly where the output is): a layer that pools before its ReLU passes that.
    /// </summary>
    void MaxPool2dReluBackward(Tensor gradOutput, IndexTensor argmax, Tensor post, Tensor gradInput, PoolGeometry geometry);
    void AvgPool2dForward(Tensor input, Tensor output, PoolGeometry geometry);
    void AvgPool2dBackward(Tensor gradOutput, Tensor gradInput, PoolGeometry geometry);

    // Activation and bias -----------------------------------------------------------------------
    void Relu(Tensor x, Tensor y);
    /// <summary>The ReLU derivative as a 0/1 mask of the post-activation.</summary>
    void ReluMask(Tensor y, Tensor mask);
    /// <summary>gradX = gradY where y &gt; 0, else 0.</summary>
    void ReluBackward(Tensor gradY, Tensor y, Tensor gradX);
    /// <summary>In place: bias [F] added to every row of [N, F], or bias [C] to every pixel of channel C of [N, C, H, W].</summary>
    void AddBias(Tensor x, Tensor bias);
    /// <summary>Sum of gradY over all axes but the feature / channel axis.</summary>
    void BiasGradient(Tensor gradY, Tensor gradBias, bool accumulate = false);

    // Element-wise ------------------------------------------------------------------------------
    void Add(Tensor a, Tensor b, Tensor y);
    void Subtract(Tensor a, Tensor b, Tensor y);
    void Multiply(Tensor a, Tensor b, Tensor y);
    void Scale(Tensor x, float factor, Tensor y);
    /// <summary>y += alpha * x.</summary>
    void Axpy(float alpha, Tensor x, Tensor y);
    void Fill(Tensor y, float value);
    void Copy(Tensor source, Tensor destination);

    /// <summary>
    /// Copies <paramref name="source"/>, a tensor of another backend, into <paramref name="destination"/> (this
    /// backend's) without leaving the device, where both backends share one; false, with nothing done, otherwise.
    /// </summary>
    bool TryCopyFromSameDevice(Tensor source, Tensor destination);

    /// <summary>
    /// Takes <paramref name="hostArray"/>, a pinned array from <see cref="HostArrays"/> that the caller gives up, as a
    /// tensor of <paramref name="shape"/> on this backend without copying it, where this backend keeps its tensors in
    /// host memory; disposing the tensor gives the array back to <see cref="HostArrays"/>. Null, with the array left to
    /// the caller, on a backend whose tensors live elsewhere (a device).
    /// </summary>
    Tensor? Adopt(float[] hostArray, Shape shape);

    // Reductions (double results, a fixed summation order: the same bits every run) -------------
    double Sum(Tensor x);
    double Dot(Tensor a, Tensor b);
    double SquaredNorm(Tensor x);

    // Losses ------------------------------------------------------------------------------------
    /// <summary>Row-wise log-softmax of [N, K] logits.</summary>
    void LogSoftmax(Tensor logits, Tensor logProbabilities);
    /// <summary>Mean cross-entropy of [N, K] logits against labels [N]; writes d(mean loss)/d(logits) when given.</summary>
    double SoftmaxCrossEntropy(Tensor logits, IndexTensor labels, Tensor? gradLogits);

    // Optimisers --------------------------------------------------------------------------------
    /// <summary>One SGD step; <paramref name="velocity"/> is required when momentum is non-zero.</summary>
    void SgdStep(Tensor parameter, Tensor gradient, Tensor? velocity, SgdSettings settings);
    /// <summary>One AdamW step; <paramref name="step"/> counts from 1 for bias correction.</summary>
    void AdamWStep(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWSettings settings, int step);

    // Random ------------------------------------------------------------------------------------
    void FillUniform(Tensor y, RandomStream stream, float low, float high);
    void FillNormal(Tensor y, RandomStream stream, float mean, float standardDeviation);
}
