using Plastic.Rules;

namespace Plastic.Sim.Theory;

/// <summary>Where a B optimisation ended: the matrix (row-major D_z x D_c), the gradient norm there and the iterations it took.</summary>
public sealed record OptimalBResult(float[] B, double GradientNorm, int Iterations);

/// <summary>
/// The optimum of a layer's regularised contrastive objective for fixed features (PAPER.md 2.3):
///     J(B) = mean_i [ f(z_i . B c_i) + f(-z_neg(i) . B c_i) ] + (lambda / 2) |B|^2,
/// strictly convex for convex f and lambda > 0. Linear f has the closed form
/// B* = (1 / (lambda N)) sum_i (z_i - z_neg(i)) c_i^T; other f by Newton's method on the 2N coefficients
/// of the optimum's span (see <see cref="Newton"/>), in double precision; the result reports |grad J(B)|.
/// </summary>
public static class OptimalB
{
    public static OptimalBResult Solve(double[] z, double[] c, int n, int dz, int dc, IReadOnlyList<int> negatives, ContrastiveSettings f, double lambda,
        double tolerance = 1e-10, int maxIterations = 100)
    {
        if (lambda <= 0) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "The regularised objective needs lambda > 0.");
        if (f.F == ScoreFunction.Linear)
        {
            var b = new double[dz * dc];
            for (int i = 0; i < n; i++)
                for (int r = 0; r < dz; r++)
                {
                    double dzr = z[i * dz + r] - z[negatives[i] * dz + r];
                    for (int s = 0; s < dc; s++) b[r * dc + s] += dzr * c[i * dc + s];
                }
            for (int k = 0; k < b.Length; k++) b[k] /= lambda * n;
            var g = new double[b.Length];
            Objective(b, z, c, n, dz, dc, negatives, f, lambda, g);
            return new OptimalBResult(ToFloat(b), Norm(g), 0);
        }
        return Newton(z, c, n, dz, dc, negatives, f, lambda, tolerance, maxIterations);
    }

    /// <summary>J(B) and its gradient (written into <paramref name="grad"/>).</summary>
    public static double Objective(double[] b, double[] z, double[] c, int n, int dz, int dc, IReadOnlyList<int> negatives, ContrastiveSettings f, double lambda, double[] grad)
    {
        double value = 0;
        for (int k = 0; k < b.Length; k++) { grad[k] = lambda * b[k]; value += 0.5 * lambda * b[k] * b[k]; }
        var bc = new double[dz];
        for (int i = 0; i < n; i++)
        {
            for (int r = 0; r < dz; r++)
            {
                double s = 0;
                for (int q = 0; q < dc; q++) s += b[r * dc + q] * c[i * dc + q];
                bc[r] = s;
            }
            int j = negatives[i];
            double positive = 0, negative = 0;
            for (int r = 0; r < dz; r++) { positive += z[i * dz + r] * bc[r]; negative += z[j * dz + r] * bc[r]; }
            value += (f.Value(positive) + f.Value(-negative)) / n;
            double gp = f.Slope(positive) / n, gn = -f.Slope(-negative) / n;
            for (int r = 0; r < dz; r++)
            {
                double w = gp * z[i * dz + r] + gn * z[j * dz + r];
                if (w == 0) continue;
                for (int q = 0; q < dc; q++) grad[r * dc + q] += w * c[i * dc + q];
            }
        }
        return value;
    }

    /// <summary>
    /// Newton's method in the span of the optimum. Stationarity gives B* = sum_k gamma_k z_k c_k^T over
    /// the 2N "atoms" (z_i, c_i) (positive terms) and (z_neg(i), c_i) (negative terms), with
    /// gamma_k = -g_k'(u_k) / (lambda N), g_k(u) = f(+-u) and u_k = (K gamma)_k for the Gram matrix
    /// K_kl = (z_k . z_l)(c_k . c_l). So F(gamma) = lambda gamma + g'(K gamma) / N = 0 is solved with
    /// Jacobian lambda I + diag(g''(u) / N) K: a 2N x 2N system per step instead of a D_z x D_c search.
    /// </summary>
    private static OptimalBResult Newton(double[] z, double[] c, int n, int dz, int dc, IReadOnlyList<int> negatives, ContrastiveSettings f, double lambda,
        double tolerance, int maxIterations)
    {
        int atoms = 2 * n;
        int ZOf(int k) => k < n ? k : negatives[k - n];
        int COf(int k) => k < n ? k : k - n;
        double Sign(int k) => k < n ? 1 : -1;
        var kernel = new double[atoms, atoms];
        for (int k = 0; k < atoms; k++)
            for (int l = 0; l <= k; l++)
            {
                double zz = 0, cc = 0;
                for (int r = 0; r < dz; r++) zz += z[ZOf(k) * dz + r] * z[ZOf(l) * dz + r];
                for (int q = 0; q < dc; q++) cc += c[COf(k) * dc + q] * c[COf(l) * dc + q];
                kernel[k, l] = kernel[l, k] = zz * cc;
            }

        var gamma = new double[atoms];
        var u = new double[atoms];
        var residual = new double[atoms];
        double Residual(double[] g)
        {
            double worst = 0;
            for (int k = 0; k < atoms; k++)
            {
                double uk = 0;
                for (int l = 0; l < atoms; l++) uk += kernel[k, l] * g[l];
                u[k] = uk;
            }
            for (int k = 0; k < atoms; k++)
            {
                residual[k] = lambda * g[k] + Sign(k) * f.Slope(Sign(k) * u[k]) / n;
                worst = Math.Max(worst, Math.Abs(residual[k]));
            }
            return worst;
        }

        double current = Residual(gamma);
        int iteration = 0;
        for (; iteration < maxIterations && current > tolerance * 1e-3; iteration++)
        {
            var jacobian = new double[atoms, atoms];
            for (int k = 0; k < atoms; k++)
            {
                double curvature = f.Curvature(Sign(k) * u[k]) / n;
                for (int l = 0; l < atoms; l++) jacobian[k, l] = curvature * kernel[k, l];
                jacobian[k, k] += lambda;
            }
            var step = SolveLinear(jacobian, residual.Select(r => -r).ToArray());
            // Damped: halve the step until the residual falls (the objective is strictly convex).
            double scale = 1;
            var trial = new double[atoms];
            double next;
            while (true)
            {
                for (int k = 0; k < atoms; k++) trial[k] = gamma[k] + scale * step[k];
                next = Residual(trial);
                if (next < current || scale < 1e-12) break;
                scale *= 0.5;
            }
            Array.Copy(trial, gamma, atoms);
            if (next >= current) { current = Residual(gamma); break; }
            current = next;
        }

        var b = new double[dz * dc];
        for (int k = 0; k < atoms; k++)
        {
            if (gamma[k] == 0) continue;
            for (int r = 0; r < dz; r++)
            {
                double w = gamma[k] * z[ZOf(k) * dz + r];
                for (int q = 0; q < dc; q++) b[r * dc + q] += w * c[COf(k) * dc + q];
            }
        }
        var grad = new double[b.Length];
        Objective(b, z, c, n, dz, dc, negatives, f, lambda, grad);
        return new OptimalBResult(ToFloat(b), Norm(grad), iteration);
    }

    /// <summary>Gaussian elimination with partial pivoting (the Jacobian is small: 2N x 2N).</summary>
    private static double[] SolveLinear(double[,] a, double[] rhs)
    {
        int m = rhs.Length;
        var x = (double[])rhs.Clone();
        var p = (double[,])a.Clone();
        for (int col = 0; col < m; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < m; r++) if (Math.Abs(p[r, col]) > Math.Abs(p[pivot, col])) pivot = r;
            if (pivot != col)
            {
                for (int q = 0; q < m; q++) (p[col, q], p[pivot, q]) = (p[pivot, q], p[col, q]);
                (x[col], x[pivot]) = (x[pivot], x[col]);
            }
            for (int r = col + 1; r < m; r++)
            {
                double factor = p[r, col] / p[col, col];
                if (factor == 0) continue;
                for (int q = col; q < m; q++) p[r, q] -= factor * p[col, q];
                x[r] -= factor * x[col];
            }
        }
        for (int r = m - 1; r >= 0; r--)
        {
            double s = x[r];
            for (int q = r + 1; q < m; q++) s -= p[r, q] * x[q];
            x[r] = s / p[r, r];
        }
        return x;
    }

    private static double Dot(double[] a, double[] b) { double s = 0; for (int k = 0; k < a.Length; k++) s += a[k] * b[k]; return s; }
    private static void Axpy(double a, double[] x, double[] y) { for (int k = 0; k < x.Length; k++) y[k] += a * x[k]; }
    private static double Norm(double[] a) => Math.Sqrt(Dot(a, a));
    private static float[] ToFloat(double[] a) => a.Select(v => (float)v).ToArray();
}
