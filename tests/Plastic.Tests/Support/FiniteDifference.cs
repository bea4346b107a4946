using Xunit.Sdk;

namespace Plastic.Tests.Support;

public static class FiniteDifference
{
    /// <summary>
    /// Central differences of <paramref name="loss"/> at up to <paramref name="probes"/> coordinates
    /// spread over <paramref name="x"/>, compared with the analytic gradient. The tolerance is
    /// relative to the largest gradient entry, since float32 forward passes limit the difference's precision.
    /// </summary>
    public static void Check(float[] x, Func<float[], double> loss, float[] analytic, string what, double step = 1e-2, int probes = 24, double rtol = 2e-3)
    {
        double scale = analytic.Max(v => Math.Abs((double)v));
        int stride = Math.Max(1, x.Length / probes);
        for (int i = 0; i < x.Length; i += stride)
        {
            var plus = (float[])x.Clone(); plus[i] += (float)step;
            var minus = (float[])x.Clone(); minus[i] -= (float)step;
            double numeric = (loss(plus) - loss(minus)) / (plus[i] - minus[i]);
            if (Math.Abs(numeric - analytic[i]) > rtol * scale + 1e-6)
                throw new XunitException($"{what}: at {i} finite difference {numeric:G6}, analytic {analytic[i]:G6} (scale {scale:G3})");
        }
    }
}
