using System.Runtime.Intrinsics;

namespace Plastic.Compute.Cpu.Winograd;

/// <summary>
/// The small transforms of Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, 2016): a 2x2
/// output tile of a 3x3 stride-1 convolution is Y = A^T [(G g G^T) . (B^T d B)] A over a 4x4 input
/// tile d, 16 products instead of 36. The transforms use only 0, +-1 and 1/2, so they add no rounding
/// beyond that of the sums. Position xi = 4 * row + column indexes the 16 products.
/// B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
/// A^T = [1 1 1 0; 0 1 -1 -1].
/// </summary>
internal static unsafe class WinogradF2x3
{
    public const int Positions = 16;

    /// <summary>u[xi * uStride] = (G g G^T)[xi] for a 3x3 kernel g read as g[tap(r, c)].</summary>
    public static void TransformKernel(float* g, bool flipped, float* u, long uStride)
    {
        Span<float> taps = stackalloc float[9];
        for (int t = 0; t < 9; t++) taps[t] = flipped ? g[8 - t] : g[t];
        Span<float> gg = stackalloc float[12];
        for (int c = 0; c < 3; c++)
        {
            float a = taps[c], b = taps[3 + c], e = taps[6 + c];
            gg[c] = a;
            gg[3 + c] = 0.5f * (a + b + e);
            gg[6 + c] = 0.5f * (a - b + e);
            gg[9 + c] = e;
        }
        for (int r = 0; r < 4; r++)
        {
            float a = gg[3 * r], b = gg[3 * r + 1], e = gg[3 * r + 2];
            u[(4 * r) * uStride] = a;
            u[(4 * r + 1) * uStride] = 0.5f * (a + b + e);
            u[(4 * r + 2) * uStride] = 0.5f * (a - b + e);
            u[(4 * r + 3) * uStride] = e;
        }
    }

    /// <summary>
    /// The adjoint of <see cref="TransformKernel"/>: dg = G^T dU G, from dU[xi * duStride] to the 3x3
    /// kernel gradient dg[tap], added to what is there when <paramref name="accumulate"/>.
    /// </summary>
    public static void TransformKernelGradient(float* du, long duStride, float* dg, bool accumulate)
    {
        Span<float> rows = stackalloc float[12];
        for (int c = 0; c < 4; c++)
        {
            float u0 = du[c * duStride], u1 = du[(4 + c) * duStride], u2 = du[(8 + c) * duStride], u3 = du[(12 + c) * duStride];
            rows[c] = u0 + 0.5f * (u1 + u2);
            rows[4 + c] = 0.5f * (u1 - u2);
            rows[8 + c] = 0.5f * (u1 + u2) + u3;
        }
        for (int r = 0; r < 3; r++)
        {
            float u0 = rows[4 * r], u1 = rows[4 * r + 1], u2 = rows[4 * r + 2], u3 = rows[4 * r + 3];
            float g0 = u0 + 0.5f * (u1 + u2), g1 = 0.5f * (u1 - u2), g2 = 0.5f * (u1 + u2) + u3;
            if (accumulate)
            {
                dg[3 * r] += g0; dg[3 * r + 1] += g1; dg[3 * r + 2] += g2;
            }
            else
            {
                dg[3 * r] = g0; dg[3 * r + 1] = g1; dg[3 * r + 2] = g2;
            }
        }
    }

    /// <summary>
    /// <see cref="TransformKernel"/> for 16 kernels along the lanes, with the same operations in the same order (the
    /// same numbers): taps[t * 16 + lane] is tap t of kernel lane (already flipped where it is), and
    /// u[xi * uStride + lane] gets its position xi.
    /// </summary>
    public static void TransformKernels16(float* taps, float* u, long uStride)
    {
        var half = Vector512.Create(0.5f);
        Span<Vector512<float>> gg = stackalloc Vector512<float>[12];
        for (int c = 0; c < 3; c++)
        {
            var a = Vector512.Load(taps + 16 * c);
            var b = Vector512.Load(taps + 16 * (3 + c));
            var e = Vector512.Load(taps + 16 * (6 + c));
            gg[c] = a;
            gg[3 + c] = half * (a + b + e);
            gg[6 + c] = half * (a - b + e);
            gg[9 + c] = e;
        }
        for (int r = 0; r < 4; r++)
        {
            Vector512<float> a = gg[3 * r], b = gg[3 * r + 1], e = gg[3 * r + 2];
            a.Store(u + (4 * r) * uStride);
            (half * (a + b + e)).Store(u + (4 * r + 1) * uStride);
            (half * (a - b + e)).Store(u + (4 * r + 2) * uStride);
            e.Store(u + (4 * r + 3) * uStride);
        }
    }

    /// <summary>
    /// <see cref="TransformKernelGradient"/> for the 16 kernels du + 0 .. 15 along the lanes, with the same operations in
    /// the same order: dg[t * 16 + lane] gets tap t of kernel lane's gradient (to be added or stored by the caller).
    /// </summary>
    public static void TransformKernelGradients16(float* du, long duStride, float* dg)
    {
        var half = Vector512.Create(0.5f);
        Span<Vector512<float>> rows = stackalloc Vector512<float>[12];
        for (int c = 0; c < 4; c++)
        {
            var u0 = Vector512.Load(du + c * duStride);
            var u1 = Vector512.Load(du + (4 + c) * duStride);
            var u2 = Vector512.Load(du + (8 + c) * duStride);
            var u3 = Vector512.Load(du + (12 + c) * duStride);
            rows[c] = u0 + half * (u1 + u2);
            rows[4 + c] = half * (u1 - u2);
            rows[8 + c] = half * (u1 + u2) + u3;
        }
        for (int r = 0; r < 3; r++)
        {
            Vector512<float> u0 = rows[4 * r], u1 = rows[4 * r + 1], u2 = rows[4 * r + 2], u3 = rows[4 * r + 3];
            (u0 + half * (u1 + u2)).Store(dg + 16 * (3 * r));
            (half * (u1 - u2)).Store(dg + 16 * (3 * r + 1));
            (half * (u1 + u2) + u3).Store(dg + 16 * (3 * r + 2));
        }
    }
}
