namespace Plastic.Compute.Cpu.Gemm;

/// <summary>
/// A stride-1 convolution whose output rows are 16 pixels (the 16x16 maps of a 1/8-width VGG on 32x32 images)
/// as a GEMM whose B panels are never packed: a panel's 48 columns are three output rows, each a contiguous
/// run of 16 pixels, and its row k (ci, kh, kw) lies at one offset from each run's corner in the zero-bordered
/// batch, so the kernel loads B in place (<see cref="MicroKernels.Kernel8x48Indirect"/>). Packing those panels
/// was the largest cost outside the arithmetic of a 1/8-width backprop step (9 % of its samples, 2026-12-04).
/// Same K blocks, tiles of 8 rows and per-element sums as <see cref="GemmEngine"/>: the same results, bit for bit.
/// </summary>
internal static unsafe class IndirectConvolution
{
    private const int RunLength = 16, PanelColumns = 48;

    /// <summary>Whether it applies: the AVX-512 8x48 kernel, a batch without padding to apply (bordered already or none),
    /// stride 1, 16-pixel output rows, whole tiles of output channels, at least one panel.</summary>
    public static bool Applies(MicroKernel kernel, ConvDims d) =>
        kernel == MicroKernel.Avx512 && d.Stride == 1 && d.Pad == 0 && d.Wo == RunLength && d.Cout % kernel.MR == 0
        && d.N * d.Pixels >= PanelColumns;

    /// <summary>c[Cout x N*Pixels] += W * patches(input), c already holding the bias; W is [Cout x Patch].</summary>
    public static void Multiply<TW>(GemmEngine engine, CpuParallel parallel, TW w, float* input, float* c, ConvDims d) where TW : struct, IPanelSourceA
    {
        int columns = d.N * d.Pixels, panels = columns / PanelColumns, k = d.Patch, mr = engine.Kernel.MR;
        int kStep = GemmSplit.KStep(k, engine.KC);
        using var packedA = new ScratchBlock(d.Cout * k);   // K block pc at pc * Cout, row tile ip at + ip * kcur
        var offsets = new int[k];
        for (int pc = 0; pc < k; pc += kStep)
        {
            int kcur = Math.Min(kStep, k - pc);
            for (int ip = 0; ip < d.Cout; ip += mr) w.PackA(packedA.Pointer + (long)pc * d.Cout + ip * kcur, mr, ip, mr, pc, kcur);
        }
        for (int p = 0; p < k; p++)
        {
            int ci = p / (d.K * d.K), kh = p / d.K % d.K, kw = p % d.K;
            offsets[p] = (ci * d.H + kh) * d.W + kw;
        }

        nint a = (nint)packedA.Pointer, x = (nint)input, cAddress = (nint)c;
        fixed (int* offsetsPointer = offsets)
        {
            nint o = (nint)offsetsPointer;
            parallel.ForRanges(panels, 1, (p0, p1) =>
            {
                for (int panel = p0; panel < p1; panel++)
                {
                    int q = panel * PanelColumns;
                    float* b0 = RunCorner((float*)x, q, d), b1 = RunCorner((float*)x, q + RunLength, d), b2 = RunCorner((float*)x, q + 2 * RunLength, d);
                    for (int pc = 0; pc < k; pc += kStep)
                    {
                        int kcur = Math.Min(kStep, k - pc);
                        for (int ip = 0; ip < d.Cout; ip += mr)
                            MicroKernels.Kernel8x48Indirect(kcur, (float*)a + (long)pc * d.Cout + ip * kcur, (int*)o + pc, b0, b1, b2,
                                (float*)cAddress + (long)ip * columns + q, columns);
                    }
                }
            });
        }
        // The last columns, fewer than a panel, packed as usual.
        int done = panels * PanelColumns;
        if (done < columns) engine.Multiply(0, d.Cout, done, columns - done, k, w, new ImagePatches(input, d), c, columns);
    }

    /// <summary>Where output pixel q's patch starts in the batch: the first of a run of 16 in one output row.</summary>
    private static float* RunCorner(float* input, int q, ConvDims d)
    {
        int image = q / d.Pixels, oh = q % d.Pixels / d.Wo;
        return input + (long)image * d.InputImage + (long)oh * d.W;
    }
}
