using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// The contrastive local loss of one layer's output (PAPER.md 2.1, type 2): the output is
/// average-pooled over k x k patches and flattened (z: view 1), scored against a detached reference c
/// through B (D_z x D_c), and
///     L = mean_i [ f(z_i . B c_i) + f(-z_neg(i) . B c_i) ],
/// with f the hinge max(0, 1 - x) for CLAPP++ (softplus and linear f, fixed or identity B, global
/// pooling and original CLAPP's 50/50 update as options; see <see cref="ContrastiveSettings"/>).
/// The reference is the same layer's view 2 (lateral) or a top-down reference (direct feedback).
/// It gives dL/d(output) and steps B with its own AdamW state. The gradient is formed from N x N
/// score and gate matrices, so nothing but the N x N scores leaves the backend. The local rule uses
/// it at every layer; the backprop baseline (BP-CLAPP++) at the top layer only.
/// </summary>
public sealed class ContrastiveLoss : ITopLoss
{
    private readonly IComputeBackend _b;
    private readonly LossPooling _pooling;
    private readonly AdamWSettings _optimizer;
    private readonly ContrastiveSettings _settings;
    private readonly Tensor _bMatrix, _bGrad, _bM, _bV;
    private readonly RandomStream _draws;
    private Buffers? _buffers;

    /// <param name="features">D_z: the size of the layer's loss features (its output after the loss pool, flattened).</param>
    /// <param name="referenceFeatures">D_c: the size of the reference; null for the lateral reference (D_c = D_z).</param>
    public ContrastiveLoss(IComputeBackend backend, int features, int? lossPool, RandomStream init, AdamWSettings optimizer,
        int? referenceFeatures = null, ContrastiveSettings? settings = null)
    {
        _b = backend;
        _optimizer = optimizer;
        _settings = settings ?? new ContrastiveSettings();
        _pooling = new LossPooling(backend, lossPool is { } k ? new PoolGeometry(k) : null, _settings.GlobalPool);
        _draws = init.Derive(EitherDrawsStream);
        int dc = referenceFeatures ?? features;
        _bMatrix = backend.Allocate(new Shape(features, dc));
        if (_settings.B == BMode.Identity)
        {
            if (dc != features)
                throw new ArgumentException($"{Name}: an identity B needs as many reference features as layer features ({dc} vs {features}).");
            var identity = new float[features * features];
            for (int i = 0; i < features; i++) identity[i * features + i] = 1f;
            backend.Upload(identity, _bMatrix);
        }
        else
        {
            // nn.Linear's default initialisation (fan-in D_c), as the paper's code uses for B.
            float bound = 1f / MathF.Sqrt(dc);
            backend.FillUniform(_bMatrix, init, -bound, bound);
        }
        _bGrad = backend.Allocate(_bMatrix.Shape);
        _bM = backend.Allocate(_bMatrix.Shape);
        _bV = backend.Allocate(_bMatrix.Shape);
    }

    public const string Name = "clapp++";
    string ITopLoss.Name => Name;
    private const ulong EitherDrawsStream = 0x50F7;
    public Tensor B => _bMatrix;
    /// <summary>What a checkpoint must hold to resume this loss: B and its AdamW moments.</summary>
    public IReadOnlyList<Tensor> CheckpointState => [_bMatrix, _bM, _bV];
    /// <summary>dL/dB of the last step, before the optimiser used it (for inspection and tests).</summary>
    public Tensor LastBGradient => _bGrad;

    /// <summary>
    /// The loss of a stacked output [2N, ...] (view 1 rows first) with sample i's negative at
    /// negatives[i], against <paramref name="reference"/> [N, D_c] or, when null, the output's own view 2;
    /// writes dL/d(output) into <paramref name="gradOutput"/> (the view-2 rows are zero: references are
    /// detached), then steps B. The returned tensor belongs to the loss.
    /// </summary>
    public double Compute(Tensor output, int n, ReadOnlySpan<int> negatives, out Tensor gradOutput, Tensor? reference = null, long step = 0)
    {
        if (negatives.Length != n)
            throw new ArgumentException($"{Name}: the pairing holds {negatives.Length} negatives for a batch of {n}.");
        var buf = BuffersFor(n);

        // Loss features of both views: [2N, D].
        var pooled = _pooling.Pool(output, _bMatrix.Shape[0]);
        var z = pooled.Rows(0, n);
        var c = reference ?? pooled.Rows(n, n);
        if (c.Shape != new Shape(n, _bMatrix.Shape[1]))
            throw new ShapeMismatchException($"{Name}: the reference has shape {c.Shape}, expected [{n}x{_bMatrix.Shape[1]}] (batch x B's columns).");
        _b.Gemm(c, false, _bMatrix, true, buf.Bc);          // Bc[i] = B c_i
        _b.Gemm(z, false, buf.Bc, true, buf.Scores);        // S[j, i] = z_j . B c_i

        var scores = buf.Scores.ToArray();
        var gates = new float[n * n];
        var (positiveWeights, negativeWeights) = TermWeights(n, step);
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double positive = scores[i * n + i], negative = scores[negatives[i] * n + i];
            loss += positiveWeights[i] * _settings.Value(positive) + negativeWeights[i] * _settings.Value(-negative);
            // dL/dz_j = sum_i G[j, i] B c_i. The gates are the modulating factor: f'(u) for the positive
            // pair, -f'(-u) for the negative one (for the hinge: -1/+1 while active, 0 when silent).
            gates[i * n + i] += (float)(positiveWeights[i] * _settings.Slope(positive));
            gates[negatives[i] * n + i] -= (float)(negativeWeights[i] * _settings.Slope(-negative));
        }
        _b.Upload(gates, buf.Gates);

        // dL/dz = G Bc for view 1; view 2 is the detached reference: zero.
        var gradFeatures = _pooling.FeatureGradient;
        _b.Fill(gradFeatures, 0f);
        _b.Gemm(buf.Gates, false, buf.Bc, false, gradFeatures.Rows(0, n));
        // dL/dB = sum_ij G[j, i] (z_j c_i^T) ... written as B's gradient for Bc = c B^T: dB = (G^T z)^T c.
        _b.Gemm(buf.Gates, true, z, false, buf.GtZ);        // [N, D]: row i = sum_j G[j, i] z_j
        _b.Gemm(buf.GtZ, true, c, false, _bGrad);           // [D, D] = sum_i (G^T z)_i c_i^T
        if (_settings.BDecay > 0)
        {
            // (lambda/2) |B|^2: its value joins the loss, lambda B the gradient.
            double norm = _b.Norm(_bMatrix);
            loss += 0.5 * _settings.BDecay * norm * norm;
            _b.Axpy((float)_settings.BDecay, _bMatrix, _bGrad);
        }
        // AdamW's step count is the training step's (as for the weights): no hidden counter, so a
        // checkpoint of B and its moments is the whole state.
        if (_settings.B == BMode.Trainable) _b.AdamWStep(_bMatrix, _bGrad, _bM, _bV, _optimizer, checked((int)(step + 1)));

        gradOutput = _pooling.Unpool();
        return loss;
    }

    double ITopLoss.Compute(Tensor output, int n, ReadOnlySpan<int> negatives, out Tensor gradOutput, long step) =>
        Compute(output, n, negatives, out gradOutput, null, step);

    /// <summary>
    /// How much each sample's positive and negative terms count: 1/N each, or with the 50/50 update
    /// 1/|P| for the samples that drew their positive term and 1/|Q| for those that drew the negative.
    /// </summary>
    private (double[] Positive, double[] Negative) TermWeights(int n, long step)
    {
        var positive = new double[n];
        var negative = new double[n];
        if (!_settings.Either)
        {
            Array.Fill(positive, 1.0 / n);
            Array.Fill(negative, 1.0 / n);
            return (positive, negative);
        }
        var drewNegative = new bool[n];
        for (int i = 0; i < n; i++) drewNegative[i] = (_draws.Derive((ulong)step).Bits((ulong)i) & 1) == 1;
        int negatives = drewNegative.Count(x => x), positives = n - negatives;
        for (int i = 0; i < n; i++)
        {
            if (drewNegative[i]) negative[i] = 1.0 / negatives;
            else positive[i] = 1.0 / positives;
        }
        return (positive, negative);
    }

    private Buffers BuffersFor(int n)
    {
        if (_buffers?.N == n) return _buffers;
        _buffers?.Dispose();
        return _buffers = new Buffers(_b, n, _bMatrix.Shape[0]);
    }

    public void Dispose()
    {
        _buffers?.Dispose();
        _pooling.Dispose();
        foreach (var t in new[] { _bMatrix, _bGrad, _bM, _bV }) t.Dispose();
    }

    /// <summary>Scratch tensors for one batch size.</summary>
    private sealed class Buffers(IComputeBackend b, int n, int features) : IDisposable
    {
        public int N => n;
        public Tensor Bc { get; } = b.Allocate(new Shape(n, features));
        public Tensor GtZ { get; } = b.Allocate(new Shape(n, features));
        public Tensor Scores { get; } = b.Allocate(new Shape(n, n));
        public Tensor Gates { get; } = b.Allocate(new Shape(n, n));

        public void Dispose()
        {
            foreach (var t in new[] { Bc, GtZ, Scores, Gates }) t.Dispose();
        }
    }
}
