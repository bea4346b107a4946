using Plastic.Compute;

namespace Plastic.Rules;

/// <summary>
/// Forward-Forward and SCFF (RULES-FF-SCFF-CLAPP.md 1, 2): each layer raises the goodness G (squared
/// ReLU activity, before the max-pool) of positive inputs above a threshold and lowers that of negative
/// inputs below one, with the logistic loss softplus(th1 - G_pos) + softplus(G_neg - th2). Its update is
/// a Hebbian product (post dL/da = s 2 r, pre: the input that produced a) with a per-sample (FF) or
/// per-position (SCFF) factor s = -sigma(th1 - G) or +sigma(G - th2). Each of the 2N rows of the layer's
/// input is an image x[r]; its negative partner is row negatives[r] of the broadcast pairing.
/// <list type="bullet">
/// <item>FF: positives are the 2N real rows (the forward pass's own pre-activation); negatives are 2N
/// hybrids, the average 0.5 (x[r] + x[partner]) through the layer's synapses (Plastic's stand-in for
/// FF's masked hybrid images, made at every layer from its own input).</item>
/// <item>SCFF: the positive of row r is the image with itself, concat(x[r], x[r]), the negative
/// concat(x[r], x[partner]); the kernel is shared on the two halves and the bias added twice,
/// a = W x1 + W x2 + 2b, so a_pos = 2 (W x[r] + b) and a_neg = 2 (W (x[r] + x[partner]) / 2 + b).</item>
/// </list>
/// </summary>
public sealed class GoodnessRule(IComputeBackend backend, GoodnessPairs pairs, GoodnessSettings settings) : ILocalRule
{
    private Tensor? _pairInput, _pre, _grad, _gradForward;

    public string Name => pairs == GoodnessPairs.ForwardForward ? GoodnessSettings.ForwardForwardName : GoodnessSettings.SelfContrastiveName;
    public RuleSignals Needs => RuleSignals.Pairing;

    public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
    {
        int rows = 2 * view.BatchSize;
        var negatives = view.Negatives.Span;
        if (negatives.Length != rows)
            throw new ArgumentException($"{Name}: the pairing holds {negatives.Length} negatives for {rows} rows; it needs one per row.");
        var act = view.PreActivation.Shape;
        int channels = act[1], positions = act.Length / (act[0] * channels);
        var x = view.Input.ToArray();
        int inSize = x.Length / rows;
        EnsureBuffers(view.Input.Shape, act);

        // The negative inputs, halved so that the layer's own synapses give W (x[r] + x[partner]) / 2 + b.
        var pairInput = new float[rows * inSize];
        for (int r = 0; r < rows; r++)
        {
            int partner = negatives[r];
            if ((uint)partner >= (uint)rows) throw new ArgumentException($"{Name}: row {r}'s negative is row {partner}, outside 0..{rows - 1}.");
            for (int k = 0; k < inSize; k++)
                pairInput[r * inSize + k] = 0.5f * (x[r * inSize + k] + x[partner * inSize + k]);
        }
        backend.Upload(pairInput, _pairInput!);
        view.Synapses(_pairInput!, _pre!);

        // Positives first: the forward pass's pre-activation of the 2N rows, then the 2N negatives.
        var forward = view.PreActivation.ToArray();
        var pairPre = _pre!.ToArray();
        var all = new float[forward.Length + pairPre.Length];
        forward.CopyTo(all, 0);
        pairPre.CopyTo(all, forward.Length);
        bool scff = pairs == GoodnessPairs.SelfContrastive;
        // SCFF's a = 2 pre (two halves, bias twice); dL/dpre = 2 dL/da.
        float scale = scff ? 2f : 1f;
        if (scff) for (int k = 0; k < all.Length; k++) all[k] *= scale;
        double positive = settings.PositiveThreshold ?? (scff ? GoodnessSettings.ScffPositive : channels);
        double negative = settings.NegativeThreshold ?? (scff ? GoodnessSettings.ScffNegative : positive);
        var (loss, grad) = GoodnessLoss.Evaluate(all, 2 * rows, channels, positions, rows, pairs, positive, negative, scff ? settings.Lambda : 0);
        if (scff) for (int k = 0; k < grad.Length; k++) grad[k] *= scale;
        backend.Upload(grad.AsSpan(0, forward.Length), _gradForward!);
        backend.Upload(grad.AsSpan(forward.Length), _grad!);
        view.SynapseGradient(view.Input, _gradForward!, gradWeight, gradBias, false);
        view.SynapseGradient(_pairInput!, _grad!, gradWeight, gradBias, true);
        return loss;
    }

    private void EnsureBuffers(Shape input, Shape act)
    {
        if (_pre?.Shape == act && _pairInput?.Shape == input) return;
        Dispose();
        _pairInput = backend.Allocate(input);
        _pre = backend.Allocate(act);
        _grad = backend.Allocate(act);
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
