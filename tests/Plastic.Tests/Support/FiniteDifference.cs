using Xunit.Sdk;

namespace Plastic.Tests.Support;

public static class FiniteDifference
{
    /// <summary>
    /// Central differences of <paramref name="loss"/> at up to <paramref name="probes"/> coordinates
    /// spread over <paramref name="x"/>, compared with the analytic gradient. The tolerance is
    /// relative to the largest gradient entry, since float32 forward passes limit the difference's
    /// precision. A coordinate whose left and right differences disagree sits on a kink (a ReLU or a
    /// max-pool switching within the step) where no derivative exists; it is skipped, and at most a
    /// quarter of the probes may be skipped. A loss that is continuously differentiable (smooth: such as
    /// a goodness ReLU(a)^2, whose slope 2 ReLU(a) is continuous at 0) has no kinks, only curvature that
    /// makes left and right differences differ by O(step); it is checked at every probe.
    /// </summary>
    public static void Check(float[] x, Func<float[], double> loss, float[] analytic, string what, double step = 1e-2, int probes = 24, double rtol = 2e-3,
        bool smooth = false)
    {
        double scale = analytic.Max(v => Math.Abs((double)v));
        double tolerance = rtol * scale + 1e-6;
        double center = loss(x);
        int stride = Math.Max(1, x.Length / probes), tried = 0, kinks = 0;
        for (int i = 0; i < x.Length; i += stride)
        {
            tried++;
            var plus = (float[])x.Clone(); plus[i] += (float)step;
            var minus = (float[])x.Clone(); minus[i] -= (float)step;
            double up = loss(plus), down = loss(minus);
            double right = (up - center) / (plus[i] - x[i]), left = (center - down) / (x[i] - minus[i]);
            if (!smooth && Math.Abs(right - left) > 2 * tolerance) { kinks++; continue; }
            double numeric = (up - down) / (plus[i] - minus[i]);
            if (Math.Abs(numeric - analytic[i]) > tolerance)
                throw new XunitException($"{what}: at {i} finite difference {numeric:G6}, analytic {analytic[i]:G6} (scale {scale:G3})");
        }
        if (kinks * 4 > tried)
            throw new XunitException($"{what}: {kinks} of {tried} probes sit on kinks; the check is not informative (choose another step or input).");
    }
}
