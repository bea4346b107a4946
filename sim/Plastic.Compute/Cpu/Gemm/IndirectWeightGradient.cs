namespace Plastic.Compute.Cpu.Gemm;

/// <summary>
/// A stride-1 convolution's weight gradient dW = dY * patches^T over 16-pixel output rows (the 16x16 maps of a
/// 1/8-width VGG) with the im2col rows read in place: along K (the batch's pixels) a patch row (ci, kh, kw) is a
/// sequence of 16-pixel runs, run t at one offset from the row's corner in the zero-bordered batch, so the dot
/// kernel loads each vector of B where it lies (<see cref="MicroKernels.Dot4x6Vector512Indirect"/>) instead of a
/// packed copy. Same K blocks, tiles and sums as <see cref="DotGemmEngine"/>: the same results, bit for bit.
/// </summary>
internal static unsafe class IndirectWeightGradient
{
    private const int RunLength = 16;

    /// <summary>Whether it applies (d without padding to apply): the AVX-512 4x6 dot kernel, stride 1, 16-pixel
    /// output rows, whole tiles on both sides, few enough output channels to pack dY's rows whole, and K blocks
    /// that hold whole runs.</summary>
    public static bool Applies(DotGemmEngine engine, ConvDims d)
    {
        var kernel = engine.Kernel;
        if (kernel.Width != RunLength || kernel.MR != 4 || kernel.NR != 6 || d.Stride != 1 || d.Pad != 0 || d.Wo != RunLength) return false;
        if (d.Cout % kernel.MR != 0 || d.Patch % kernel.NR != 0 || d.Cout > 128) return false;
        return GemmSplit.KStep(d.N * d.Pixels, engine.KC) % RunLength == 0;
    }

    /// <summary>dW [Cout x Patch] += dY [N, Cout, pixels] * patches(input)^T, the patch columns split between the threads.</summary>
    public static void Multiply(DotGemmEngine engine, CpuParallel parallel, float* dy, float* input, float* dw, ConvDims d)
    {
        int k = d.N * d.Pixels, kStep = GemmSplit.KStep(k, engine.KC);
        int mr = engine.Kernel.MR, nr = engine.Kernel.NR;
        var runOffsets = new int[k / RunLength];
        for (int t = 0; t < runOffsets.Length; t++)
        {
            int q = t * RunLength, image = q / d.Pixels, oh = q % d.Pixels / d.Wo;
            runOffsets[t] = image * d.InputImage + oh * d.W;
        }
        nint dyAddress = (nint)dy, x = (nint)input, dwAddress = (nint)dw;
        fixed (int* offsetsPointer = runOffsets)
        {
            nint offsets = (nint)offsetsPointer;
            parallel.ForRanges(d.Patch, nr, (j0, j1) =>
            {
                using var packedA = new ScratchBlock(d.Cout * kStep);
                var rows = new ChannelRows((float*)dyAddress, d.Cout, d.Pixels);
                for (int pc = 0; pc < k; pc += kStep)
                {
                    int kcur = Math.Min(kStep, k - pc);
                    DotGemmEngine.PackPanels(rows, packedA.Pointer, kcur, 0, d.Cout, mr, pc, kcur);
                    int* o = (int*)offsets + pc / RunLength;
                    for (int jp = j0; jp < j1; jp += nr)
                    {
                        float* b0 = Corner((float*)x, jp, d), b1 = Corner((float*)x, jp + 1, d), b2 = Corner((float*)x, jp + 2, d);
                        float* b3 = Corner((float*)x, jp + 3, d), b4 = Corner((float*)x, jp + 4, d), b5 = Corner((float*)x, jp + 5, d);
                        for (int ip = 0; ip < d.Cout; ip += mr)
                            MicroKernels.Dot4x6Vector512Indirect(kcur, packedA.Pointer + (long)ip * kcur, o, b0, b1, b2, b3, b4, b5,
                                (float*)dwAddress + (long)ip * d.Patch + jp, d.Patch);
                    }
                }
            });
        }
    }

    /// <summary>Where patch row (ci, kh, kw) starts for the batch's first output pixel.</summary>
    private static float* Corner(float* input, int patchRow, ConvDims d)
    {
        int kk = d.K * d.K, ci = patchRow / kk, kh = patchRow % kk / d.K, kw = patchRow % d.K;
        return input + ((long)ci * d.H + kh) * d.W + kw;
    }
}
