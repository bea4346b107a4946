using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// BP-InfoNCE (PAPER.md 3, table of variants; SimCLR-like): the top layer's loss features z (pooled
/// like CLAPP++'s) go through a bias-free linear projection p = W z shared by both views; with
/// q = p/|p| the N x N logits are S[i, j] = q1_i . q2_j / tau (view-1 rows, view-2 columns), and
///     L = mean_i [ -S[i, i] + log sum_j exp S[i, j] ],
/// one direction only; the negatives of sample i are the other N - 1 images of view 2, so the
/// pairing's negatives are not used. Gradients flow through both views. W starts as nn.Linear's
/// default and is stepped with AdamW.
/// </summary>
public sealed class InfoNceLoss : ITopLoss
{
    public const string RuleName = "bp-infonce";
    /// <summary>PAPER.md: temperature 0.1.</summary>
    public const double DefaultTemperature = 0.1;

    private readonly IComputeBackend _b;
    private readonly LossPooling _pooling;
    private readonly int _features;
    private readonly double _temperature;
    private readonly AdamWSettings _optimizer;
    private readonly TrainedMatrix _projection;
    private Tensor? _projected, _gradProjected;

    /// <param name="projection">Output size of the projection (PAPER.md: as many as the features, 1024 for VGG-6).</param>
    public InfoNceLoss(IComputeBackend backend, int features, int? lossPool, RandomStream init, AdamWSettings optimizer,
        int? projection = null, double temperature = DefaultTemperature, bool globalPool = false)
    {
        if (temperature <= 0) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"{RuleName}: the temperature must be positive.");
        _b = backend;
        _features = features;
        _temperature = temperature;
        _optimizer = optimizer;
        _pooling = new LossPooling(backend, lossPool is { } k ? new PoolGeometry(k) : null, globalPool);
        _projection = new TrainedMatrix(backend, new Shape(projection ?? features, features));
        float bound = 1f / MathF.Sqrt(features);
        backend.FillUniform(_projection.Value, init, -bound, bound);
    }

    public string Name => RuleName;
    public Tensor Projection => _projection.Value;
    public IReadOnlyList<Tensor> CheckpointState => _projection.CheckpointState;
    /// <summary>dL/dW of the last step, before the optimiser used it.</summary>
    public Tensor LastProjectionGradient => _projection.Gradient;
    /// <summary>The loss features z [2N, D] of the last step (valid until the next call).</summary>
    public Tensor? LastFeatures { get; private set; }

    public double Compute(Tensor output, int n, ReadOnlySpan<int> negatives, out Tensor gradOutput, long step)
    {
        var z = _pooling.Pool(output, _features);                       // [2N, D]
        LastFeatures = z;
        int dp = _projection.Shape[0];
        if (_projected?.Shape[0] != 2 * n)
        {
            _projected?.Dispose(); _gradProjected?.Dispose();
            _projected = _b.Allocate(new Shape(2 * n, dp));
            _gradProjected = _b.Allocate(new Shape(2 * n, dp));
        }
        _b.Gemm(z, false, _projection.Value, true, _projected);                        // p = z W^T

        // The N x N part is small: normalise, score and differentiate on the host, in double.
        var p = _projected.ToArray();
        var (loss, gradP) = LossAndGradient(p, n, dp, _temperature);
        _b.Upload(gradP, _gradProjected!);

        _b.Gemm(_gradProjected!, true, z, false, _projection.Gradient);               // dW = dp^T z
        _b.Gemm(_gradProjected!, false, _projection.Value, false, _pooling.FeatureGradient); // dz = dp W
        _projection.Step(_optimizer, step);
        gradOutput = _pooling.Unpool();
        return loss;
    }

    /// <summary>
    /// The loss of projections p [2N, dp] and dL/dp. Through q = p/|p|: dL/dp = (dq - q (q . dq)) / |p|;
    /// dS = (softmax_rows(S) - I) / N; dq1 = dS q2 / tau, dq2 = dS^T q1 / tau.
    /// </summary>
    public static (double Loss, float[] GradP) LossAndGradient(float[] p, int n, int dp, double temperature)
    {
        // Row operations run as vectorised spans (TensorPrimitives): a fixed order for a given CPU, and
        // about a tenth of the time of scalar loops (2 ms a step at N = 32, dp = 512 on the critical path).
        var q = new double[2 * n * dp];
        var norm = new double[2 * n];
        for (int r = 0; r < 2 * n; r++)
        {
            var row = Row(q, r, dp);
            for (int a = 0; a < dp; a++) row[a] = p[r * dp + a];
            norm[r] = Math.Max(Math.Sqrt(TensorPrimitives.Dot<double>(row, row)), 1e-12);
            TensorPrimitives.Divide(row, norm[r], row);
        }

        double loss = 0;
        var dS = new double[n * n];
        var logits = new double[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) logits[j] = TensorPrimitives.Dot<double>(Row(q, i, dp), Row(q, n + j, dp)) / temperature;
            double max = logits.Max(), sum = logits.Sum(l => Math.Exp(l - max));
            loss += max + Math.Log(sum) - logits[i];
            for (int j = 0; j < n; j++) dS[i * n + j] = (Math.Exp(logits[j] - max) / sum - (i == j ? 1 : 0)) / n;
        }

        var dq = new double[2 * n * dp];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double g = dS[i * n + j] / temperature;
                if (g == 0) continue;
                TensorPrimitives.MultiplyAdd(Row(q, n + j, dp), g, Row(dq, i, dp), Row(dq, i, dp));
                TensorPrimitives.MultiplyAdd(Row(q, i, dp), g, Row(dq, n + j, dp), Row(dq, n + j, dp));
            }
        var gradP = new float[2 * n * dp];
        for (int r = 0; r < 2 * n; r++)
        {
            ReadOnlySpan<double> qr = Row(q, r, dp), dqr = Row(dq, r, dp);
            double qdq = TensorPrimitives.Dot(qr, dqr);
            for (int a = 0; a < dp; a++) gradP[r * dp + a] = (float)((dqr[a] - qr[a] * qdq) / norm[r]);
        }
        return (loss / n, gradP);
    }

    private static Span<double> Row(double[] matrix, int row, int width) => matrix.AsSpan(row * width, width);

    public void Dispose()
    {
        _pooling.Dispose();
        _projection.Dispose();
        _projected?.Dispose();
        _gradProjected?.Dispose();
    }
}
