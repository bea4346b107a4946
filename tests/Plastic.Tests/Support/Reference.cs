namespace Plastic.Tests.Support;

/// <summary>
/// Plain scalar implementations of every compute operation, written to be read, not to be fast.
/// All arithmetic is in double; these are the oracle the backends are tested against.
/// Layouts: images NCHW, matrices row-major, conv weights [Cout, Cin, k, k].
/// </summary>
public static class Reference
{
    public static float[] Gemm(float[] a, int aRows, int aCols, bool transA, float[] b, int bRows, int bCols, bool transB,
        float[] c, float alpha, float beta)
    {
        int m = transA ? aCols : aRows, k = transA ? aRows : aCols, n = transB ? bRows : bCols;
        var result = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    double aip = transA ? a[p * aCols + i] : a[i * aCols + p];
                    double bpj = transB ? b[j * bCols + p] : b[p * bCols + j];
                    sum += aip * bpj;
                }
                result[i * n + j] = (float)(alpha * sum + (beta == 0 ? 0 : beta * c[i * n + j]));
            }
        return result;
    }

    public static float[] Conv2d(float[] x, int n, int cin, int h, int w, float[] weight, int cout, float[]? bias, int k, int stride, int pad)
    {
        int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
        var y = new float[n * cout * ho * wo];
        for (int b = 0; b < n; b++)
            for (int co = 0; co < cout; co++)
                for (int oh = 0; oh < ho; oh++)
                    for (int ow = 0; ow < wo; ow++)
                    {
                        double sum = bias?[co] ?? 0;
                        for (int ci = 0; ci < cin; ci++)
                            for (int kh = 0; kh < k; kh++)
                                for (int kw = 0; kw < k; kw++)
                                {
                                    int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                    sum += (double)x[((b * cin + ci) * h + ih) * w + iw] * weight[((co * cin + ci) * k + kh) * k + kw];
                                }
                        y[((b * cout + co) * ho + oh) * wo + ow] = (float)sum;
                    }
        return y;
    }

    /// <summary>dL/dx given dL/dy: every output position sends its gradient back through the weights to the inputs it read.</summary>
    public static float[] Conv2dBackwardInput(float[] dy, int n, int cin, int h, int w, float[] weight, int cout, int k, int stride, int pad)
    {
        int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
        var dx = new double[n * cin * h * w];
        for (int b = 0; b < n; b++)
            for (int co = 0; co < cout; co++)
                for (int oh = 0; oh < ho; oh++)
                    for (int ow = 0; ow < wo; ow++)
                    {
                        double g = dy[((b * cout + co) * ho + oh) * wo + ow];
                        for (int ci = 0; ci < cin; ci++)
                            for (int kh = 0; kh < k; kh++)
                                for (int kw = 0; kw < k; kw++)
                                {
                                    int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                    dx[((b * cin + ci) * h + ih) * w + iw] += g * weight[((co * cin + ci) * k + kh) * k + kw];
                                }
                    }
        return ToFloat(dx);
    }

    /// <summary>dL/dW (and dL/dbias) summed over the batch.</summary>
    public static (float[] dW, float[] dBias) Conv2dBackwardWeight(float[] x, int n, int cin, int h, int w, float[] dy, int cout, int k, int stride, int pad)
    {
        int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
        var dw = new double[cout * cin * k * k];
        var db = new double[cout];
        for (int b = 0; b < n; b++)
            for (int co = 0; co < cout; co++)
                for (int oh = 0; oh < ho; oh++)
                    for (int ow = 0; ow < wo; ow++)
                    {
                        double g = dy[((b * cout + co) * ho + oh) * wo + ow];
                        db[co] += g;
                        for (int ci = 0; ci < cin; ci++)
                            for (int kh = 0; kh < k; kh++)
                                for (int kw = 0; kw < k; kw++)
                                {
                                    int ih = oh * stride - pad + kh, iw = ow * stride - pad + kw;
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                    dw[((co * cin + ci) * k + kh) * k + kw] += g * x[((b * cin + ci) * h + ih) * w + iw];
                                }
                    }
        return (ToFloat(dw), ToFloat(db));
    }

    /// <summary>Max over each window (first maximum wins ties); returns values and flat input indices.</summary>
    public static (float[] y, int[] argmax) MaxPool(float[] x, int planes, int h, int w, int k, int stride)
    {
        int ho = (h - k) / stride + 1, wo = (w - k) / stride + 1;
        var y = new float[planes * ho * wo];
        var idx = new int[y.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++)
                {
                    int best = -1;
                    for (int kh = 0; kh < k; kh++)
                        for (int kw = 0; kw < k; kw++)
                        {
                            int at = (p * h + oh * stride + kh) * w + ow * stride + kw;
                            if (best < 0 || x[at] > x[best]) best = at;
                        }
                    y[(p * ho + oh) * wo + ow] = x[best];
                    idx[(p * ho + oh) * wo + ow] = best;
                }
        return (y, idx);
    }

    public static float[] MaxPoolBackward(float[] dy, int[] argmax, int inputLength)
    {
        var dx = new double[inputLength];
        for (int i = 0; i < dy.Length; i++) dx[argmax[i]] += dy[i];
        return ToFloat(dx);
    }

    /// <summary>
    /// Each window's mean, summed in double; with <paramref name="inFloat"/> summed in float from 0, row by row and
    /// left to right, then scaled by the float 1 / K^2 (the CPU backend's order, for bit-for-bit checks).
    /// </summary>
    public static float[] AvgPool(float[] x, int planes, int h, int w, int k, int stride, bool inFloat = false)
    {
        int ho = (h - k) / stride + 1, wo = (w - k) / stride + 1;
        var y = new float[planes * ho * wo];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++)
                {
                    double sum = 0;
                    float floatSum = 0f;
                    for (int kh = 0; kh < k; kh++)
                        for (int kw = 0; kw < k; kw++)
                        {
                            float v = x[(p * h + oh * stride + kh) * w + ow * stride + kw];
                            sum += v;
                            floatSum += v;
                        }
                    y[(p * ho + oh) * wo + ow] = inFloat ? floatSum * (1f / (k * k)) : (float)(sum / (k * k));
                }
        return y;
    }

    public static float[] AvgPoolBackward(float[] dy, int planes, int h, int w, int k, int stride)
    {
        int ho = (h - k) / stride + 1, wo = (w - k) / stride + 1;
        var dx = new double[planes * h * w];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++)
                    for (int kh = 0; kh < k; kh++)
                        for (int kw = 0; kw < k; kw++)
                            dx[(p * h + oh * stride + kh) * w + ow * stride + kw] += dy[(p * ho + oh) * wo + ow] / (double)(k * k);
        return ToFloat(dx);
    }

    public static float[] LogSoftmax(float[] z, int rows, int classes)
    {
        var o = new float[z.Length];
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < classes; j++) max = Math.Max(max, z[r * classes + j]);
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.Exp(z[r * classes + j] - max);
            for (int j = 0; j < classes; j++) o[r * classes + j] = (float)(z[r * classes + j] - max - Math.Log(sum));
        }
        return o;
    }

    /// <summary>Mean cross-entropy and its gradient (softmax minus one-hot, divided by the batch).</summary>
    public static (double loss, float[] grad) SoftmaxCrossEntropy(float[] z, int rows, int classes, int[] labels)
    {
        var logp = LogSoftmax(z, rows, classes);
        double loss = 0;
        var grad = new float[z.Length];
        for (int r = 0; r < rows; r++)
        {
            loss -= logp[r * classes + labels[r]];
            for (int j = 0; j < classes; j++)
                grad[r * classes + j] = (float)((Math.Exp(logp[r * classes + j]) - (j == labels[r] ? 1 : 0)) / rows);
        }
        return (loss / rows, grad);
    }

    public static void AdamW(float[] p, float[] g, float[] m, float[] v, double lr, double b1, double b2, double eps, double wd, int step)
    {
        for (int i = 0; i < p.Length; i++)
        {
            double param = p[i] * (1 - lr * wd);
            double mi = b1 * m[i] + (1 - b1) * g[i];
            double vi = b2 * v[i] + (1 - b2) * g[i] * g[i];
            double mhat = mi / (1 - Math.Pow(b1, step)), vhat = vi / (1 - Math.Pow(b2, step));
            p[i] = (float)(param - lr * mhat / (Math.Sqrt(vhat) + eps));
            m[i] = (float)mi;
            v[i] = (float)vi;
        }
    }

    public static void Sgd(float[] p, float[] g, float[]? velocity, double lr, double momentum, double wd)
    {
        for (int i = 0; i < p.Length; i++)
        {
            double step = g[i] + wd * p[i];
            if (velocity is not null) step = velocity[i] = (float)(momentum * velocity[i] + step);
            p[i] = (float)(p[i] - lr * step);
        }
    }

    private static float[] ToFloat(double[] d) => Array.ConvertAll(d, v => (float)v);
}
