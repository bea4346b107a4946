using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// Forward-Forward and SCFF (RULES-FF-SCFF-CLAPP.md 1, 2): each layer raises the goodness G (squared
/// ReLU activity, before the max-pool) of positive pairs above a threshold and lowers that of negative
/// pairs below one, with the logistic loss softplus(th1 - G_pos) + softplus(G_neg - th2). Its update is
/// a Hebbian product (post dL/da = s 2 r, pre: the input that produced a) with a per-sample (FF) or
/// per-position (SCFF) factor s = -sigma(th1 - G) or +sigma(G - th2). The pairs are formed from this
/// layer's own inputs of both views and the broadcast pairing; see <see cref="GoodnessPairs"/>.
/// </summary>
public sealed class GoodnessRule(IComputeBackend backend, GoodnessPairs pairs, GoodnessSettings settings) : ILocalRule
{
    private Tensor? _pairInput, _pre, _grad, _gradForward;

    public string Name => pairs == GoodnessPairs.ForwardForward ? GoodnessSettings.ForwardForwardName : GoodnessSettings.SelfContrastiveName;
    public RuleSignals Needs => RuleSignals.Pairing;

    public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
    {
        int n = view.BatchSize;
        var negatives = view.Negatives.Span;
        if (negatives.Length != n)
            throw new ArgumentException($"{Name}: the pairing holds {negatives.Length} negatives for a batch of {n}.");
        var act = view.PreActivation.Shape;
        int channels = act[1], positions = act.Length / (act[0] * channels);
        var x = view.Input.ToArray();
        int inSize = x.Length / (2 * n);
        int pairRows = pairs == GoodnessPairs.ForwardForward ? n : 2 * n;
        EnsureBuffers(view.Input.Shape, act, pairRows);

        // The pair inputs, halved so that the layer's own synapses give W (x1 + x2)/2 + b.
        var pairInput = new float[pairRows * inSize];
        for (int r = 0; r < pairRows; r++)
        {
            bool positivePair = pairs == GoodnessPairs.SelfContrastive && r < n;
            int i = r % n, partner = positivePair ? i : negatives[i];
            for (int k = 0; k < inSize; k++)
                pairInput[r * inSize + k] = 0.5f * (x[i * inSize + k] + x[(n + partner) * inSize + k]);
        }
        backend.Upload(pairInput, _pairInput!);
        view.Synapses(_pairInput!, _pre!);
        var pairPre = _pre!.ToArray();

        if (pairs == GoodnessPairs.SelfContrastive)
        {
            // a = W x1 + W x2 + 2b = 2 pre; dL/dpre = 2 dL/da.
            for (int k = 0; k < pairPre.Length; k++) pairPre[k] *= 2f;
            var (loss, grad) = GoodnessLoss.Evaluate(pairPre, pairRows, channels, positions, n, pairs,
                settings.PositiveThreshold ?? GoodnessSettings.ScffPositive, settings.NegativeThreshold ?? GoodnessSettings.ScffNegative, settings.Lambda);
            for (int k = 0; k < grad.Length; k++) grad[k] *= 2f;
            backend.Upload(grad, _grad!);
            view.SynapseGradient(_pairInput!, _grad!, gradWeight, gradBias, false);
            return loss;
        }

        // Forward-Forward: the forward pass's 2N rows are the positives, the N hybrids the negatives.
        var forward = view.PreActivation.ToArray();
        var all = new float[forward.Length + pairPre.Length];
        forward.CopyTo(all, 0);
        pairPre.CopyTo(all, forward.Length);
        double theta = settings.PositiveThreshold ?? channels;
        var (ffLoss, ffGrad) = GoodnessLoss.Evaluate(all, 3 * n, channels, positions, 2 * n, pairs, theta, settings.NegativeThreshold ?? theta, 0);
        backend.Upload(ffGrad.AsSpan(0, forward.Length), _gradForward!);
        backend.Upload(ffGrad.AsSpan(forward.Length), _grad!);
        view.SynapseGradient(view.Input, _gradForward!, gradWeight, gradBias, false);
        view.SynapseGradient(_pairInput!, _grad!, gradWeight, gradBias, true);
        return ffLoss;
    }

    private void EnsureBuffers(Shape input, Shape act, int pairRows)
    {
        if (_pre?.Shape[0] == pairRows && _pre.Length / pairRows == act.Length / act[0] && _gradForward?.Shape == act) return;
        Dispose();
        Shape Rows(Shape s, int rows) { var d = s.Dims.ToArray(); d[0] = rows; return new Shape(d); }
        _pairInput = backend.Allocate(Rows(input, pairRows));
        _pre = backend.Allocate(Rows(act, pairRows));
        _grad = backend.Allocate(Rows(act, pairRows));
        _gradForward = backend.Allocate(act);
    }

    public void Dispose()
    {
        _pairInput?.Dispose(); _pre?.Dispose(); _grad?.Dispose(); _gradForward?.Dispose();
        _pairInput = _pre = _grad = _gradForward = null;
    }
}

/// <summary>The goodness loss and its gradient for pre-activations a [rows, channels, positions] (first the positive rows).</summary>
public static class GoodnessLoss
{
    public static (double Loss, float[] GradA) Evaluate(float[] a, int rows, int channels, int positions, int positiveRows,
        GoodnessPairs pairs, double positiveThreshold, double negativeThreshold, double lambda)
    {
        bool perPosition = pairs == GoodnessPairs.SelfContrastive;
        // FF: G per sample = sum over channels of r^2, averaged over positions; SCFF: G per position = mean over channels.
        double channelScale = perPosition ? 1.0 / channels : 1.0;
        int scores = perPosition ? positions : 1;
        var goodness = new double[rows * scores];
        for (int m = 0; m < rows; m++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < positions; p++)
                {
                    double r = Math.Max(0f, a[(m * channels + c) * positions + p]);
                    goodness[m * scores + (perPosition ? p : 0)] += channelScale * r * r / (perPosition ? 1 : positions);
                }

        int negativeRows = rows - positiveRows;
        // FF averages the two halves (the reference implementation's mean over all 2B rows); SCFF adds them.
        double half = perPosition ? 1 : 0.5;
        double positiveWeight = half / (positiveRows * scores), negativeWeight = half / (negativeRows * scores);
        double loss = 0;
        var dG = new double[rows * scores];
        for (int m = 0; m < rows; m++)
        {
            bool positive = m < positiveRows;
            double norm = 0;
            if (positive && lambda > 0)
            {
                for (int s = 0; s < scores; s++) norm += goodness[m * scores + s] * goodness[m * scores + s];
                norm = Math.Sqrt(norm);
                loss += lambda * norm / positiveRows;
            }
            for (int s = 0; s < scores; s++)
            {
                double g = goodness[m * scores + s];
                if (positive)
                {
                    loss += positiveWeight * Softplus(positiveThreshold - g);
                    dG[m * scores + s] = -positiveWeight * Sigmoid(positiveThreshold - g) + (norm > 0 ? lambda * g / norm / positiveRows : 0);
                }
                else
                {
                    loss += negativeWeight * Softplus(g - negativeThreshold);
                    dG[m * scores + s] = negativeWeight * Sigmoid(g - negativeThreshold);
                }
            }
        }

        var grad = new float[a.Length];
        for (int m = 0; m < rows; m++)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < positions; p++)
                {
                    int k = (m * channels + c) * positions + p;
                    double r = Math.Max(0f, a[k]);
                    grad[k] = (float)(dG[m * scores + (perPosition ? p : 0)] * channelScale * 2 * r / (perPosition ? 1 : positions));
                }
        return (loss, grad);
    }

    private static double Softplus(double x) => x > 30 ? x : Math.Log(1 + Math.Exp(x));
    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
