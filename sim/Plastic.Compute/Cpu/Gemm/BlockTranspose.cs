using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Plastic.Compute.Cpu.Gemm;

/// <summary>
/// 16 x 16 and 8 x 16 transposes in AVX-512 registers, for packing GEMM operands across their storage order. Why: the scalar pack of a
/// transposed B wrote one float per store at a stride of a whole panel row, which made packing the
/// CLAPP++ loss's D x D matrix B about as slow as multiplying by it (7 % of a 1/8-width CLAPP++ step's
/// CPU samples, 2026-12-04). Moving values changes none of them: results stay bit-identical.
/// </summary>
internal static unsafe class BlockTranspose
{
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>dst[k * dstStride + i] = src[i * srcStride + k] * scale for i, k in 0 .. 15 (scale 1 multiplies nothing).</summary>
    public static void Transpose16(float* src, long srcStride, float* dst, long dstStride, float scale)
    {
        // Stage 1, rows in pairs: per 128-bit lane L, t[2m] = (r2m[4L], r2m+1[4L], r2m[4L+1], r2m+1[4L+1]), t[2m+1] the next two columns.
        var t0 = Avx512F.UnpackLow(Row(src, srcStride, 0), Row(src, srcStride, 1));
        var t1 = Avx512F.UnpackHigh(Row(src, srcStride, 0), Row(src, srcStride, 1));
        var t2 = Avx512F.UnpackLow(Row(src, srcStride, 2), Row(src, srcStride, 3));
        var t3 = Avx512F.UnpackHigh(Row(src, srcStride, 2), Row(src, srcStride, 3));
        var t4 = Avx512F.UnpackLow(Row(src, srcStride, 4), Row(src, srcStride, 5));
        var t5 = Avx512F.UnpackHigh(Row(src, srcStride, 4), Row(src, srcStride, 5));
        var t6 = Avx512F.UnpackLow(Row(src, srcStride, 6), Row(src, srcStride, 7));
        var t7 = Avx512F.UnpackHigh(Row(src, srcStride, 6), Row(src, srcStride, 7));
        var t8 = Avx512F.UnpackLow(Row(src, srcStride, 8), Row(src, srcStride, 9));
        var t9 = Avx512F.UnpackHigh(Row(src, srcStride, 8), Row(src, srcStride, 9));
        var t10 = Avx512F.UnpackLow(Row(src, srcStride, 10), Row(src, srcStride, 11));
        var t11 = Avx512F.UnpackHigh(Row(src, srcStride, 10), Row(src, srcStride, 11));
        var t12 = Avx512F.UnpackLow(Row(src, srcStride, 12), Row(src, srcStride, 13));
        var t13 = Avx512F.UnpackHigh(Row(src, srcStride, 12), Row(src, srcStride, 13));
        var t14 = Avx512F.UnpackLow(Row(src, srcStride, 14), Row(src, srcStride, 15));
        var t15 = Avx512F.UnpackHigh(Row(src, srcStride, 14), Row(src, srcStride, 15));

        // Stage 2, rows in fours: u[4q + c] holds, in lane L, rows 4q .. 4q + 3 at column 4L + c.
        const byte Low = 0x44, High = 0xEE;
        var u0 = Avx512F.Shuffle(t0, t2, Low); var u1 = Avx512F.Shuffle(t0, t2, High);
        var u2 = Avx512F.Shuffle(t1, t3, Low); var u3 = Avx512F.Shuffle(t1, t3, High);
        var u4 = Avx512F.Shuffle(t4, t6, Low); var u5 = Avx512F.Shuffle(t4, t6, High);
        var u6 = Avx512F.Shuffle(t5, t7, Low); var u7 = Avx512F.Shuffle(t5, t7, High);
        var u8 = Avx512F.Shuffle(t8, t10, Low); var u9 = Avx512F.Shuffle(t8, t10, High);
        var u10 = Avx512F.Shuffle(t9, t11, Low); var u11 = Avx512F.Shuffle(t9, t11, High);
        var u12 = Avx512F.Shuffle(t12, t14, Low); var u13 = Avx512F.Shuffle(t12, t14, High);
        var u14 = Avx512F.Shuffle(t13, t15, Low); var u15 = Avx512F.Shuffle(t13, t15, High);

        // Stages 3 and 4 move whole lanes: even lanes (0x88) and odd lanes (0xDD) of two vectors.
        Columns(u0, u4, u8, u12, dst, dstStride, 0, scale);
        Columns(u1, u5, u9, u13, dst, dstStride, 1, scale);
        Columns(u2, u6, u10, u14, dst, dstStride, 2, scale);
        Columns(u3, u7, u11, u15, dst, dstStride, 3, scale);
    }

    /// <summary>
    /// dst[k * 8 + i] = src[i * srcStride + k] * scale for i in 0 .. 7, k in 0 .. 15: 8 rows of A packed for the
    /// 8-row micro-kernel (each packed vector holds two values of k, 8 rows each).
    /// </summary>
    public static void Transpose8x16(float* src, long srcStride, float* dst, float scale)
    {
        const byte Low = 0x44, High = 0xEE;
        var t0 = Avx512F.UnpackLow(Row(src, srcStride, 0), Row(src, srcStride, 1));
        var t1 = Avx512F.UnpackHigh(Row(src, srcStride, 0), Row(src, srcStride, 1));
        var t2 = Avx512F.UnpackLow(Row(src, srcStride, 2), Row(src, srcStride, 3));
        var t3 = Avx512F.UnpackHigh(Row(src, srcStride, 2), Row(src, srcStride, 3));
        var t4 = Avx512F.UnpackLow(Row(src, srcStride, 4), Row(src, srcStride, 5));
        var t5 = Avx512F.UnpackHigh(Row(src, srcStride, 4), Row(src, srcStride, 5));
        var t6 = Avx512F.UnpackLow(Row(src, srcStride, 6), Row(src, srcStride, 7));
        var t7 = Avx512F.UnpackHigh(Row(src, srcStride, 6), Row(src, srcStride, 7));
        // u[c] (rows 0-3) and u[4 + c] (rows 4-7) hold, in lane L, column 4L + c.
        var u0 = Avx512F.Shuffle(t0, t2, Low); var u1 = Avx512F.Shuffle(t0, t2, High);
        var u2 = Avx512F.Shuffle(t1, t3, Low); var u3 = Avx512F.Shuffle(t1, t3, High);
        var u4 = Avx512F.Shuffle(t4, t6, Low); var u5 = Avx512F.Shuffle(t4, t6, High);
        var u6 = Avx512F.Shuffle(t5, t7, Low); var u7 = Avx512F.Shuffle(t5, t7, High);
        // Columns 4L and 4L + 1 go to packed vector 2L, columns 4L + 2 and 4L + 3 to vector 2L + 1.
        ColumnPairs(u0, u4, u1, u5, dst, 0, scale);
        ColumnPairs(u2, u6, u3, u7, dst, 1, scale);
    }

    /// <summary>From columns c (rows 0-3 in a, 4-7 in b) and c + 1 (c, d) of every lane L, writes packed vectors 2L + first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnPairs(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* dst, int first, float scale)
    {
        const byte LowLanes = 0x44, HighLanes = 0xEE, Even = 0x88, Odd = 0xDD;
        var x01 = Avx512F.Shuffle4x128(a, b, LowLanes);   // a.L0, a.L1, b.L0, b.L1
        var y01 = Avx512F.Shuffle4x128(c, d, LowLanes);
        var x23 = Avx512F.Shuffle4x128(a, b, HighLanes);  // a.L2, a.L3, b.L2, b.L3
        var y23 = Avx512F.Shuffle4x128(c, d, HighLanes);
        Store(Avx512F.Shuffle4x128(x01, y01, Even), dst + (0 + first) * 16, scale);
        Store(Avx512F.Shuffle4x128(x01, y01, Odd), dst + (2 + first) * 16, scale);
        Store(Avx512F.Shuffle4x128(x23, y23, Even), dst + (4 + first) * 16, scale);
        Store(Avx512F.Shuffle4x128(x23, y23, Odd), dst + (6 + first) * 16, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(float* src, long stride, int i) => Vector512.Load(src + i * stride);

    /// <summary>From column c of rows 0-3, 4-7, 8-11 and 12-15 (each in its lanes), writes columns c, 4 + c, 8 + c and 12 + c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* dst, long stride, int column, float scale)
    {
        const byte Even = 0x88, Odd = 0xDD;
        var ab0 = Avx512F.Shuffle4x128(a, b, Even);   // lanes: cols c, 8 + c of rows 0-3, then of rows 4-7
        var ab1 = Avx512F.Shuffle4x128(a, b, Odd);    // cols 4 + c, 12 + c
        var cd0 = Avx512F.Shuffle4x128(c, d, Even);
        var cd1 = Avx512F.Shuffle4x128(c, d, Odd);
        Store(Avx512F.Shuffle4x128(ab0, cd0, Even), dst + column * stride, scale);
        Store(Avx512F.Shuffle4x128(ab0, cd0, Odd), dst + (8 + column) * stride, scale);
        Store(Avx512F.Shuffle4x128(ab1, cd1, Even), dst + (4 + column) * stride, scale);
        Store(Avx512F.Shuffle4x128(ab1, cd1, Odd), dst + (12 + column) * stride, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> v, float* dst, float scale)
    {
        if (scale != 1f) v *= Vector512.Create(scale);
        v.Store(dst);
    }
}
