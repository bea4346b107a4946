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
        FourRows(src, srcStride, 0, out var u0, out var u1, out var u2, out var u3);
        FourRows(src, srcStride, 4, out var u4, out var u5, out var u6, out var u7);
        FourRows(src, srcStride, 8, out var u8, out var u9, out var u10, out var u11);
        FourRows(src, srcStride, 12, out var u12, out var u13, out var u14, out var u15);
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
        FourRows(src, srcStride, 0, out var u0, out var u1, out var u2, out var u3);
        FourRows(src, srcStride, 4, out var u4, out var u5, out var u6, out var u7);
        // Columns 4L and 4L + 1 go to packed vector 2L, columns 4L + 2 and 4L + 3 to vector 2L + 1.
        ColumnPairs(u0, u4, u1, u5, dst, 0, scale);
        ColumnPairs(u2, u6, u3, u7, dst, 1, scale);
    }

    /// <summary>
    /// Rows first .. first + 3 transposed within each 128-bit lane: c[j] holds, in lane L, the four rows' values at
    /// column 4L + j (stage 1 interleaves the rows in pairs, stage 2 the pairs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourRows(float* src, long stride, int first,
        out Vector512<float> c0, out Vector512<float> c1, out Vector512<float> c2, out Vector512<float> c3)
    {
        const byte Low = 0x44, High = 0xEE;
        var r0 = Vector512.Load(src + first * stride); var r1 = Vector512.Load(src + (first + 1) * stride);
        var r2 = Vector512.Load(src + (first + 2) * stride); var r3 = Vector512.Load(src + (first + 3) * stride);
        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        c0 = Avx512F.Shuffle(t0, t2, Low); c1 = Avx512F.Shuffle(t0, t2, High);
        c2 = Avx512F.Shuffle(t1, t3, Low); c3 = Avx512F.Shuffle(t1, t3, High);
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
