using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// The contrastive local loss of one layer's output (PAPER.md 2.1 type 2, and 3.1 as the released
/// code computes it). The output of both views is stacked into 2N rows (view 1 first), average-pooled
/// over k x k patches and flattened to the loss features z [2N, D_z]. Every row r is an anchor:
///     z_pos[r] = z[(r + N) mod 2N]   (the other view of the same image, with gradient)
///     c[r]     = the reference of row r, detached (the layer's own z[r], or a top-down reference)
///     z_neg[r] = z[negatives[r]]     (another image, with gradient; the released code's default is
///                                     z_pos[(r + 1) mod 2N], i.e. negatives[r] = (r + 1 + N) mod 2N)
///     L = mean over the 2N rows of [ f(z_pos[r] . B c[r]) + f(-z_neg[r] . B c[r]) ],
/// with f the hinge max(0, 1 - x) for CLAPP++ (softplus, linear and PhyLL's type-1 loss, fixed or
/// identity B, global pooling and original CLAPP's 50/50 update as options; see
/// <see cref="ContrastiveSettings"/>). It gives dL/d(output) and steps B with its own AdamW state.
/// The gradient is formed from 2N x 2N score and gate matrices, so nothing but the scores leaves the
/// backend. The local rules use it at every layer; the backprop baseline (BP-CLAPP++) at the top only.
/// </summary>
public sealed class ContrastiveLoss : ITopLoss
{
    private readonly IComputeBackend _b;
    private readonly LossPooling _pooling;
    private readonly AdamWSettings _optimizer;
    private readonly ContrastiveSettings _settings;
    private readonly TrainedMatrix _bParameter;
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
        _bParameter = new TrainedMatrix(backend, new Shape(features, dc));
        var bMatrix = _bParameter.Value;
        if (_settings.B == BMode.Identity)
        {
            if (dc != features)
                throw new ArgumentException($"{Name}: an identity B needs as many reference features as layer features ({dc} vs {features}).");
            var identity = new float[features * features];
            for (int i = 0; i < features; i++) identity[i * features + i] = 1f;
            backend.Upload(identity, bMatrix);
        }
        else
        {
            // nn.Linear's default initialisation (fan-in D_c), as the paper's code uses for B.
            float bound = 1f / MathF.Sqrt(dc);
            backend.FillUniform(bMatrix, init, -bound, bound);
        }
    }

    public const string Name = "clapp++";
    string ITopLoss.Name => Name;
    private const ulong EitherDrawsStream = 0x50F7;
    public Tensor B => _bParameter.Value;
    /// <summary>Whether B is a learned parameter (trainable), rather than fixed at its initialisation or the identity.</summary>
    public bool TrainsB => _settings.B == BMode.Trainable;
    /// <summary>What a checkpoint must hold to resume this loss: B and its AdamW moments.</summary>
    public IReadOnlyList<Tensor> CheckpointState => _bParameter.CheckpointState;
    /// <summary>dL/dB of the last step, before the optimiser used it (for inspection and tests).</summary>
    public Tensor LastBGradient => _bParameter.Gradient;
    /// <summary>The 50/50 draws of the last step with /either (true: the row made its negative term), else empty.</summary>
    public IReadOnlyList<bool> LastDraws { get; private set; } = [];
    /// <summary>The loss features z [2N, D_z] of the last step (valid until the next call).</summary>
    public Tensor? LastFeatures { get; private set; }

    /// <summary>
    /// The loss of a stacked output [2N, ...] (view 1 rows first) with row r's negative at
    /// negatives[r] (2N entries, rows of the stacked features), against <paramref name="reference"/>
    /// [2N, D_c] or, when null, the output's own loss features (lateral); writes dL/d(output) into
    /// <paramref name="gradOutput"/>, then steps B. <paramref name="draws"/> replaces the rule's own
    /// 50/50 draws (2N entries, true: negative term) with /either. The returned tensor belongs to the loss.
    /// </summary>
    public double Compute(Tensor output, int n, ReadOnlySpan<int> negatives, out Tensor gradOutput, Tensor? reference = null, long step = 0,
        IReadOnlyList<bool>? draws = null)
    {
        int rows = 2 * n;
        if (negatives.Length != rows)
            throw new ArgumentException($"{Name}: the pairing holds {negatives.Length} negatives for {rows} rows (2 views of {n}); it needs one per row.");
        var buf = BuffersFor(rows);

        var z = _pooling.Pool(output, B.Shape[0]);   // [2N, D]: both views' loss features
        LastFeatures = z;
        var c = reference ?? z;                              // detached: no gradient is formed through c
        if (c.Shape != new Shape(rows, B.Shape[1]))
            throw new ShapeMismatchException($"{Name}: the reference has shape {c.Shape}, expected [{rows}x{B.Shape[1]}] (2N rows x B's columns).");
        _b.Gemm(c, false, B, true, buf.Bc);          // Bc[r] = B c_r
        _b.Gemm(z, false, buf.Bc, true, buf.Scores);        // S[j, r] = z_j . B c_r

        var scores = buf.Scores.ToArray();
        var gates = new float[rows * rows];
        var (positiveWeights, negativeWeights) = TermWeights(rows, step, draws);
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            int positiveRow = (r + n) % rows, negativeRow = negatives[r];
            if ((uint)negativeRow >= (uint)rows)
                throw new ArgumentException($"{Name}: row {r}'s negative is row {negativeRow}, outside 0..{rows - 1}.");
            double positive = scores[positiveRow * rows + r], negative = scores[negativeRow * rows + r];
            // dL/dz_j = sum_r G[j, r] B c_r, G[j, r] = dL/du for the score of z_j against c_r: the modulating
            // factor (for the hinge: -1 for an active positive term, +1 for an active negative, 0 when silent).
            if (_settings.F == ScoreFunction.Phyll)
            {
                // Type 1 (PAPER.md 2.1): theta softplus_beta=theta(u_neg - u_pos) = log(1 + e^(theta (u_neg - u_pos))).
                double theta = _settings.Theta, d = theta * (negative - positive);
                loss += positiveWeights[r] * (d > 30 ? d : Math.Log(1 + Math.Exp(d)));
                double slope = positiveWeights[r] * theta / (1 + Math.Exp(-d));
                gates[positiveRow * rows + r] -= (float)slope;
                gates[negativeRow * rows + r] += (float)slope;
                continue;
            }
            loss += positiveWeights[r] * _settings.Value(positive) + negativeWeights[r] * _settings.Value(-negative);
            gates[positiveRow * rows + r] += (float)(positiveWeights[r] * _settings.Slope(positive));
            gates[negativeRow * rows + r] -= (float)(negativeWeights[r] * _settings.Slope(-negative));
        }
        _b.Upload(gates, buf.Gates);

        var gradFeatures = _pooling.FeatureGradient;
        _b.Gemm(buf.Gates, false, buf.Bc, false, gradFeatures); // dL/dz = G Bc, every row
        // dL/dB = sum_jr G[j, r] z_j c_r^T = (G^T z)^T c.
        _b.Gemm(buf.Gates, true, z, false, buf.GtZ);        // [2N, D]: row r = sum_j G[j, r] z_j
        _b.Gemm(buf.GtZ, true, c, false, _bParameter.Gradient);           // [D, D_c]
        if (_settings.BDecay > 0)
        {
            // (lambda/2) |B|^2: its value joins the loss, lambda B the gradient.
            double norm = _b.Norm(B);
            loss += 0.5 * _settings.BDecay * norm * norm;
            _b.Axpy((float)_settings.BDecay, B, _bParameter.Gradient);
        }
        if (TrainsB) _bParameter.Step(_optimizer, step);

        gradOutput = _pooling.Unpool();
        return loss;
    }

    double ITopLoss.Compute(Tensor output, int n, ReadOnlySpan<int> negatives, out Tensor gradOutput, long step) =>
        Compute(output, n, negatives, out gradOutput, null, step);

    /// <summary>
    /// How much each row's positive and negative terms count: 1/2N each, or with the 50/50 update
    /// 1/|P| for the rows that drew their positive term and 1/|Q| for those that drew the negative
    /// (an empty set counting 0), the draws per row from the rule's stream keyed by the step.
    /// </summary>
    private (double[] Positive, double[] Negative) TermWeights(int rows, long step, IReadOnlyList<bool>? given)
    {
        var positive = new double[rows];
        var negative = new double[rows];
        if (!_settings.Either)
        {
            Array.Fill(positive, 1.0 / rows);
            Array.Fill(negative, 1.0 / rows);
            LastDraws = [];
            return (positive, negative);
        }
        if (given is not null && given.Count != rows)
            throw new ArgumentException($"{Name}: {given.Count} 50/50 draws given for {rows} rows.");
        var stream = _draws.Derive((ulong)step);
        var drewNegative = given?.ToArray() ?? Enumerable.Range(0, rows).Select(r => (stream.Bits((ulong)r) & 1) == 1).ToArray();
        int negatives = drewNegative.Count(x => x), positives = rows - negatives;
        for (int r = 0; r < rows; r++)
        {
            if (drewNegative[r]) negative[r] = 1.0 / negatives;
            else positive[r] = 1.0 / positives;
        }
        LastDraws = drewNegative;
        return (positive, negative);
    }

    private Buffers BuffersFor(int rows)
    {
        if (_buffers?.Rows == rows) return _buffers;
        _buffers?.Dispose();
        return _buffers = new Buffers(_b, rows, B.Shape[0]);
    }

    public void Dispose()
    {
        _buffers?.Dispose();
        _pooling.Dispose();
        _bParameter.Dispose();
    }

    /// <summary>Scratch tensors for one batch size.</summary>
    private sealed class Buffers(IComputeBackend b, int rows, int features) : IDisposable
    {
        public int Rows => rows;
        public Tensor Bc { get; } = b.Allocate(new Shape(rows, features));
        public Tensor GtZ { get; } = b.Allocate(new Shape(rows, features));
        public Tensor Scores { get; } = b.Allocate(new Shape(rows, rows));
        public Tensor Gates { get; } = b.Allocate(new Shape(rows, rows));

        public void Dispose()
        {
            foreach (var t in new[] { Bc, GtZ, Scores, Gates }) t.Dispose();
        }
    }
}
