using Plastic.Compute;
using Plastic.Tests.Support;

namespace Plastic.Tests.Compute;

/// <summary>
/// Every operation of a backend against the scalar <see cref="Reference"/> at odd sizes, and every
/// backward operation against finite differences. Written once; each backend has a leaf class.
/// </summary>
public abstract class BackendContract<TFixture>(TFixture fixture) : IClassFixture<TFixture> where TFixture : BackendFixture
{
    protected IComputeBackend B => fixture.Backend ?? throw new SkipException(fixture.MissingReason ?? "backend unavailable");
    protected bool Small => fixture.Small;

    private Tensor Up(float[] data, params int[] dims) => B.Upload(data, new Shape(dims));

    public static TheoryData<int, int, int, bool, bool, float, float> GemmCases() => new()
    {
        { 1, 1, 1, false, false, 1f, 0f },
        { 17, 33, 5, false, false, 1f, 0f },
        { 17, 33, 5, true, false, 1f, 0f },
        { 17, 33, 5, false, true, 1f, 0f },
        { 17, 33, 5, true, true, 1f, 0f },
        { 33, 17, 1025, false, false, 1f, 0f },
        { 33, 17, 1025, true, true, -0.5f, 2f },
        { 13, 65, 300, false, true, 2f, 1f },
        { 65, 13, 300, true, false, 1f, 0.5f },
        { 100, 70, 257, false, false, 1f, 0f },
        // More than one block of C's columns (1,024 on the CPU) and of K (384): A packed once for all of them.
        { 20, 1100, 400, false, true, 1f, 0.5f },
    };

    [SkippableFact]
    public void Max_pool_ties_go_to_the_first_maximum_and_nan_wins()
    {
        // 2x2 windows, stride 2, one plane of 2 x 6: window 0 has a tie of 1s below its maximum 2; window 1
        // holds two NaNs (the later one wins); window 2 ties 7 and 7 (the first one wins).
        float nan = float.NaN;
        var x = new[] { 1f, 1, 0, nan, 7, 3, 1, 2, nan, 5, 7, 6 };
        using var tx = Up(x, 1, 1, 2, 6);
        using var ty = B.Allocate(new Shape(1, 1, 1, 3));
        using var idx = B.AllocateIndices(new Shape(1, 1, 1, 3));
        var pg = new PoolGeometry(2, 2);
        B.MaxPool2dForward(tx, ty, idx, pg);
        var y = ty.ToArray();
        Assert.Equal(2f, y[0]);
        Assert.True(float.IsNaN(y[1]));
        Assert.Equal(7f, y[2]);
        using var tdy = Up([1f, 10f, 100f], 1, 1, 1, 3);
        using var tdx = B.Allocate(tx.Shape);
        B.MaxPool2dBackward(tdy, idx, tdx, pg);
        Assert.Equal(new[] { 0f, 0, 0, 0, 100, 0, 0, 1, 10, 0, 0, 0 }, tdx.ToArray());
        // PyTorch's rule (a value wins if greater or NaN): the NaN at 8 replaces the one at 3, and 5 cannot beat a NaN.
        Assert.Equal([7, 8, 4], idx.ToArray());
    }

    [SkippableFact]
    public void Max_pool_ties_and_nan_follow_the_same_rule_on_rows_wide_enough_for_vectors()
    {
        // The pattern above repeated 16 times along a 2 x 96 plane: 48 windows, whole vectors of 16 on
        // backends that vectorise, each window's value and index as in the 6-wide case.
        float nan = float.NaN;
        float[] top = [1f, 1, 0, nan, 7, 3], bottom = [1f, 2, nan, 5, 7, 6];
        const int copies = 16, w = 6 * copies;
        var x = Enumerable.Range(0, copies).SelectMany(_ => top).Concat(Enumerable.Range(0, copies).SelectMany(_ => bottom)).ToArray();
        using var tx = Up(x, 1, 1, 2, w);
        using var ty = B.Allocate(new Shape(1, 1, 1, w / 2));
        using var idx = B.AllocateIndices(ty.Shape);
        B.MaxPool2dForward(tx, ty, idx, new PoolGeometry(2, 2));
        var y = ty.ToArray();
        var at = idx.ToArray();
        for (int c = 0; c < copies; c++)
        {
            Assert.Equal(2f, y[3 * c]);
            Assert.True(float.IsNaN(y[3 * c + 1]), $"window {3 * c + 1}");
            Assert.Equal(7f, y[3 * c + 2]);
            Assert.Equal(new[] { w + 6 * c + 1, w + 6 * c + 2, 6 * c + 4 }, at[(3 * c)..(3 * c + 3)]);
        }
    }

    [SkippableTheory]
    [InlineData(3, 4)] // 4x4 planes, two to a vector step on the CPU backend, an odd count: the last one scalar
    [InlineData(2, 8)] // 8x8 planes
    public void Max_pool_ties_and_nan_follow_the_same_rule_on_small_planes(int planes, int size)
    {
        // Each window gets one of four patterns (top-left, top-right, bottom-left, bottom-right), in turn: a maximum below
        // a tie; two NaNs (the later wins) and a 5 that cannot beat a NaN; a tie of 7s (the first wins); a tie of 4s.
        float nan = float.NaN;
        float[][] patterns = [[1f, 1, 1, 2], [0f, nan, nan, 5], [7f, 3, 7, 6], [-1f, 4, 4, 4]];
        int[] winner = [3, 2, 0, 1];
        int half = size / 2, windows = planes * half * half;
        var x = new float[planes * size * size];
        var expectedAt = new int[windows];
        int[] corner = [0, 1, size, size + 1];
        for (int n = 0; n < windows; n++)
        {
            int plane = n / (half * half), oh = n % (half * half) / half, ow = n % half;
            int topLeft = plane * size * size + 2 * oh * size + 2 * ow;
            for (int k = 0; k < 4; k++) x[topLeft + corner[k]] = patterns[n % 4][k];
            expectedAt[n] = topLeft + corner[winner[n % 4]];
        }
        using var tx = Up(x, 1, planes, size, size);
        using var ty = B.Allocate(new Shape(1, planes, half, half));
        using var idx = B.AllocateIndices(ty.Shape);
        var pg = new PoolGeometry(2, 2);
        B.MaxPool2dForward(tx, ty, idx, pg);
        Assert.Equal(expectedAt, idx.ToArray());
        var y = ty.ToArray();
        for (int n = 0; n < windows; n++)
            Assert.Equal(BitConverter.SingleToInt32Bits(x[expectedAt[n]]), BitConverter.SingleToInt32Bits(y[n]));
        var dy = Enumerable.Range(1, windows).Select(v => (float)v).ToArray();
        using var tdy = Up(dy, 1, planes, half, half);
        using var tdx = B.Allocate(tx.Shape);
        B.MaxPool2dBackward(tdy, idx, tdx, pg);
        var expectedDx = new float[x.Length];
        for (int n = 0; n < windows; n++) expectedDx[expectedAt[n]] = dy[n];
        Assert.Equal(expectedDx, tdx.ToArray());
    }

    [SkippableFact]
    public void Live_tensor_bytes_count_owned_tensors_until_they_are_disposed()
    {
        long before = B.LiveTensorBytes;
        var t = B.Allocate(new Shape(10, 7));
        var indices = B.AllocateIndices(new Shape(5));
        Assert.Equal(before + 280 + 20, B.LiveTensorBytes);
        Assert.True(B.PeakTensorBytes >= before + 300);
        var view = t.Rows(2, 3);             // a view owns no storage
        view.Dispose();
        Assert.Equal(before + 300, B.LiveTensorBytes);
        t.Dispose();
        t.Dispose();                          // twice is once
        indices.Dispose();
        Assert.Equal(before, B.LiveTensorBytes);
        using var uploaded = B.Upload(new float[6], new Shape(2, 3));
        Assert.Equal(before + 24, B.LiveTensorBytes);
    }

    [SkippableFact]
    public void Peak_bytes_are_broken_down_by_the_kind_each_tensor_was_tagged_with_and_add_up_to_the_peak()
    {
        // A fresh backend of the same kind: the shared one has a peak from other tests.
        using var fresh = BackendCatalog.Create(B.Name);
        Tensor weights, moments;
        using (TensorKinds.Use(TensorKind.Weights)) weights = fresh.Allocate(new Shape(100));
        using (TensorKinds.Use(TensorKind.OptimiserState)) moments = fresh.Allocate(new Shape(200));
        Assert.Equal(TensorKind.Scratch, TensorKinds.Current);  // the scope ends with its block
        var scratch = fresh.Allocate(new Shape(50));
        scratch.Dispose();
        moments.Dispose();
        var later = fresh.Allocate(new Shape(10));              // below the peak: the breakdown stays the peak's
        var at = fresh.PeakTensorBytesByKind;
        Assert.Equal(1400, fresh.PeakTensorBytes);
        Assert.Equal((400L, 800L, 200L), (at[TensorKind.Weights], at[TensorKind.OptimiserState], at[TensorKind.Scratch]));
        Assert.Equal(fresh.PeakTensorBytes, at.Values.Sum());
        weights.Dispose();
        later.Dispose();
        Assert.Equal(0, fresh.LiveTensorBytes);
    }

    [SkippableTheory]
    [MemberData(nameof(GemmCases))]
    public void Gemm_matches_reference(int m, int n, int k, bool ta, bool tb, float alpha, float beta)
    {
        if (Small) k = Math.Min(k, 65);
        int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
        var a = TestData.Normal(ar * ac, 1); var b = TestData.Normal(br * bc, 2); var c0 = TestData.Normal(m * n, 3);
        using var ta_ = Up(a, ar, ac); using var tb_ = Up(b, br, bc); using var tc = Up(c0, m, n);
        B.Gemm(ta_, ta, tb_, tb, tc, alpha, beta);
        Tolerance.AssertClose(Reference.Gemm(a, ar, ac, ta, b, br, bc, tb, c0, alpha, beta), tc.ToArray(), what: "Gemm");
    }

    [SkippableFact]
    public void Gemm_shape_mismatch_names_operation_and_shapes()
    {
        using var a = B.Allocate(new Shape(3, 4)); using var b = B.Allocate(new Shape(5, 6)); using var c = B.Allocate(new Shape(3, 6));
        var e = Assert.Throws<ShapeMismatchException>(() => B.Gemm(a, false, b, false, c));
        Assert.Contains("Gemm", e.Message);
        Assert.Contains("[3x4]", e.Message);
        Assert.Contains("[5x6]", e.Message);
    }

    public static TheoryData<int, int, int, int, int, int, int, int> ConvCases() => new()
    {
        // n, cin, h, w, cout, k, stride, pad
        { 1, 1, 1, 1, 1, 1, 1, 0 },
        { 2, 3, 7, 9, 5, 3, 1, 1 },
        { 3, 4, 9, 8, 6, 3, 2, 1 },
        { 2, 5, 6, 6, 3, 1, 1, 0 },
        { 1, 17, 5, 5, 33, 3, 1, 1 },
        { 2, 3, 8, 7, 4, 5, 1, 2 },
        { 2, 2, 9, 9, 3, 3, 1, 0 },
        { 3, 2, 11, 10, 4, 3, 3, 0 },
        { 2, 6, 33, 33, 35, 3, 1, 1 },
        // 3x3 stride 1 with 16+ channels (Winograd under Auto): odd and even sizes, every padding, 1x1 images.
        { 2, 16, 34, 34, 17, 3, 1, 1 },
        { 3, 18, 7, 5, 16, 3, 1, 2 },
        { 2, 16, 9, 10, 20, 3, 1, 0 },
        { 4, 16, 1, 1, 16, 3, 1, 1 },
        // Rows of 70 pixels: Winograd's row split takes several whole vectors from the row itself, then a tail.
        { 2, 3, 5, 70, 4, 3, 1, 1 },
        // The deep layers of a VGG on 32x32 images: 16x16, 8x8 and 4x4 maps, where the im2col panels are
        // packed from a zero-bordered copy in runs of exactly one vector (16, 8, 4 floats).
        { 3, 8, 16, 16, 16, 3, 1, 1 },
        { 5, 16, 8, 8, 24, 3, 1, 1 },
        { 7, 16, 4, 4, 16, 3, 1, 1 },
        // 16-pixel output rows read in place by the AVX-512 kernel, 5 panels of 48 pixels and 16 left over.
        { 1, 16, 16, 16, 24, 3, 1, 1 },
        // Cin x Cout of 2048 on 8x8 and 4x4 maps, with and without a border (Winograd under Auto on AVX-512, 16 tiles
        // across several tile rows): whole groups of tile rows, then tile rows that fill no group.
        { 3, 32, 8, 8, 64, 3, 1, 1 },
        { 5, 64, 4, 4, 32, 3, 1, 1 },
        { 2, 32, 10, 10, 64, 3, 1, 0 },
        // 256 x 256 kernels on 8x8 maps: under Auto also the weight gradient by Winograd, one sum shared by the threads.
        { 1, 256, 8, 8, 256, 3, 1, 1 },
    };

    [SkippableTheory]
    [MemberData(nameof(ConvCases))]
    public void Conv2d_forward_and_backward_match_reference(int n, int cin, int h, int w, int cout, int k, int s, int p)
    {
        if (Small && h > 16) { h = 12; w = 11; }
        var g = new ConvGeometry(k, s, p);
        int ho = g.OutputSize(h), wo = g.OutputSize(w);
        var x = TestData.Normal(n * cin * h * w, 1); var wt = TestData.Normal(cout * cin * k * k, 2);
        var bias = TestData.Normal(cout, 3); var dy = TestData.Normal(n * cout * ho * wo, 4);
        using var tx = Up(x, n, cin, h, w); using var tw = Up(wt, cout, cin, k, k); using var tb = Up(bias, cout);
        using var ty = B.Allocate(new Shape(n, cout, ho, wo)); using var tdy = Up(dy, n, cout, ho, wo);
        using var tdx = B.Allocate(tx.Shape); using var tdw = B.Allocate(tw.Shape); using var tdb = B.Allocate(tb.Shape);

        B.Conv2dForward(tx, tw, tb, ty, g);
        Tolerance.AssertClose(Reference.Conv2d(x, n, cin, h, w, wt, cout, bias, k, s, p), ty.ToArray(), what: "Conv2dForward");

        B.Conv2dBackwardInput(tdy, tw, tdx, g);
        Tolerance.AssertClose(Reference.Conv2dBackwardInput(dy, n, cin, h, w, wt, cout, k, s, p), tdx.ToArray(), what: "Conv2dBackwardInput");

        B.Conv2dBackwardWeight(tx, tdy, tdw, tdb, g);
        var (dw, db) = Reference.Conv2dBackwardWeight(x, n, cin, h, w, dy, cout, k, s, p);
        Tolerance.AssertClose(dw, tdw.ToArray(), what: "Conv2dBackwardWeight dW");
        Tolerance.AssertClose(db, tdb.ToArray(), what: "Conv2dBackwardWeight dBias");

        // accumulate adds to what is there
        B.Conv2dBackwardWeight(tx, tdy, tdw, tdb, g, accumulate: true);
        Tolerance.AssertClose(dw.Select(v => 2 * v).ToArray(), tdw.ToArray(), what: "Conv2dBackwardWeight accumulate");
    }

    [SkippableFact]
    public void Conv2d_backward_ops_agree_with_finite_differences()
    {
        const int n = 2, cin = 3, h = 6, w = 5, cout = 4;
        var g = new ConvGeometry(3, 2, 1);
        int ho = g.OutputSize(h), wo = g.OutputSize(w);
        var x = TestData.Normal(n * cin * h * w, 5); var wt = TestData.Normal(cout * cin * 9, 6); var dy = TestData.Normal(n * cout * ho * wo, 7);
        using var tdy = Up(dy, n, cout, ho, wo);
        // L(x, W) = sum(dy * conv(x, W)); its gradients are the backward ops applied to dy.
        double Loss(float[] xv, float[] wv)
        {
            using var tx = Up(xv, n, cin, h, w); using var tw = Up(wv, cout, cin, 3, 3); using var ty = B.Allocate(tdy.Shape);
            B.Conv2dForward(tx, tw, null, ty, g);
            return B.Dot(ty, tdy);
        }
        using var txx = Up(x, n, cin, h, w); using var tww = Up(wt, cout, cin, 3, 3);
        using var tdx = B.Allocate(txx.Shape); using var tdw = B.Allocate(tww.Shape);
        B.Conv2dBackwardInput(tdy, tww, tdx, g);
        B.Conv2dBackwardWeight(txx, tdy, tdw, null, g);
        FiniteDifference.Check(x, xv => Loss(xv, wt), tdx.ToArray(), "dL/dx");
        FiniteDifference.Check(wt, wv => Loss(x, wv), tdw.ToArray(), "dL/dW");
    }

    [SkippableTheory]
    [InlineData(3, 7, 9, 2, 2)]
    [InlineData(2, 9, 9, 3, 2)]
    [InlineData(4, 8, 8, 4, 4)]
    [InlineData(1, 1, 1, 1, 1)]
    [InlineData(3, 6, 70, 2, 2)]
    [InlineData(2, 4, 32, 2, 2)]
    [InlineData(3, 4, 16, 2, 2)]
    [InlineData(2, 6, 26, 2, 2)]
    [InlineData(5, 4, 4, 2, 2)]
    [InlineData(3, 8, 8, 2, 2)]
    public void Pooling_matches_reference(int planes, int h, int w, int k, int stride)
    {
        var pg = new PoolGeometry(k, stride);
        int ho = pg.OutputSize(h), wo = pg.OutputSize(w);
        var x = TestData.Normal(planes * h * w, 8); var dy = TestData.Normal(planes * ho * wo, 9);
        using var tx = Up(x, 1, planes, h, w); using var ty = B.Allocate(new Shape(1, planes, ho, wo));
        using var idx = B.AllocateIndices(ty.Shape); using var tdy = Up(dy, 1, planes, ho, wo); using var tdx = B.Allocate(tx.Shape);

        B.MaxPool2dForward(tx, ty, idx, pg);
        var (my, mi) = Reference.MaxPool(x, planes, h, w, k, stride);
        Tolerance.AssertBitIdentical(my, ty.ToArray(), "MaxPool2dForward");
        Assert.Equal(mi, idx.ToArray());
        B.MaxPool2dBackward(tdy, idx, tdx, pg);
        Tolerance.AssertClose(Reference.MaxPoolBackward(dy, mi, x.Length), tdx.ToArray(), what: "MaxPool2dBackward");

        B.AvgPool2dForward(tx, ty, pg);
        Tolerance.AssertClose(Reference.AvgPool(x, planes, h, w, k, stride), ty.ToArray(), what: "AvgPool2dForward");
        B.AvgPool2dBackward(tdy, tdx, pg);
        Tolerance.AssertClose(Reference.AvgPoolBackward(dy, planes, h, w, k, stride), tdx.ToArray(), what: "AvgPool2dBackward");
    }

    [SkippableTheory]
    [InlineData(3, 7, 9, 2, 2)]
    [InlineData(2, 9, 9, 3, 2)]
    [InlineData(4, 6, 70, 2, 2)]
    [InlineData(5, 4, 4, 2, 2)]
    [InlineData(3, 8, 8, 2, 2)]
    public void Max_pool_backward_through_a_relu_in_one_pass_equals_the_two_steps(int planes, int h, int w, int k, int stride)
    {
        var pg = new PoolGeometry(k, stride);
        int ho = pg.OutputSize(h), wo = pg.OutputSize(w);
        // Most inputs negative (shifted by -1.5), so that the ReLU's zeros win many windows and mask their gradients.
        var x = TestData.Normal(planes * h * w, 21).Select(v => v - 1.5f).ToArray(); var dy = TestData.Normal(planes * ho * wo, 22);
        using var tx = Up(x, 1, planes, h, w); using var post = B.Allocate(tx.Shape);
        using var ty = B.Allocate(new Shape(1, planes, ho, wo)); using var idx = B.AllocateIndices(ty.Shape);
        using var tdy = Up(dy, 1, planes, ho, wo); using var twoSteps = B.Allocate(tx.Shape); using var oneStep = B.Allocate(tx.Shape);
        B.Relu(tx, post);
        B.MaxPool2dForward(post, ty, idx, pg);
        B.MaxPool2dBackward(tdy, idx, twoSteps, pg);
        B.ReluBackward(twoSteps, post, twoSteps);
        B.MaxPool2dReluBackward(tdy, idx, post, oneStep, pg);
        Tolerance.AssertBitIdentical(twoSteps.ToArray(), oneStep.ToArray(), "MaxPool2dReluBackward");
        Assert.Contains(oneStep.ToArray(), v => v != 0f);
        Assert.Contains(idx.ToArray(), at => post.ToArray()[at] == 0f); // some routed gradients were masked
    }

    [SkippableTheory]
    [InlineData(3, 8, 32)]  // rows of 16 windows: the vector scatter
    [InlineData(5, 16, 16)] // rows of 8 windows
    [InlineData(3, 6, 70)]  // rows of 35: the scalar scatter
    [InlineData(5, 4, 4)]   // 4x4 planes, two to a vector step, the last of an odd count scalar
    [InlineData(3, 8, 8)]   // 8x8 planes
    public void Max_pool_backward_puts_each_gradient_at_its_argmax_bit_for_bit(int planes, int h, int w)
    {
        Skip.IfNot(B is Plastic.Compute.Cpu.CpuBackend, "The CPU backend's scatter, checked bit for bit (GPU kernels trust MaxPool2dForward's argmax).");
        var pg = new PoolGeometry(2);
        int ho = h / 2, wo = w / 2;
        var x = TestData.Normal(planes * h * w, 31).Select(v => v - 0.5f).ToArray();
        var dy = TestData.Normal(planes * ho * wo, 32);
        dy[3] = -0f; dy[5] = 0f; // a -0 gradient scattered onto the cleared plane becomes +0, as 0 + -0 does
        using var tx = Up(x, 1, planes, h, w); using var post = B.Allocate(tx.Shape); using var ty = B.Allocate(new Shape(1, planes, ho, wo));
        using var idx = B.AllocateIndices(ty.Shape); using var tdy = Up(dy, 1, planes, ho, wo); using var dx = B.Allocate(tx.Shape);
        B.Relu(tx, post);
        B.MaxPool2dForward(post, ty, idx, pg);
        var argmax = idx.ToArray();
        // Plane 1's last window routes its gradient to the first element of its plane: outside its window, inside its
        // plane, which the scatter allows (that plane falls back to the scalar pass).
        argmax[2 * ho * wo - 1] = h * w;
        B.Upload(argmax, idx);
        var postValues = post.ToArray();
        foreach (bool masked in new[] { false, true })
        {
            var expected = new float[x.Length];
            for (int i = 0; i < dy.Length; i++) expected[argmax[i]] += !masked || postValues[argmax[i]] > 0f ? dy[i] : 0f;
            if (masked) B.MaxPool2dReluBackward(tdy, idx, post, dx, pg);
            else B.MaxPool2dBackward(tdy, idx, dx, pg);
            Tolerance.AssertBitIdentical(expected, dx.ToArray(), masked ? "MaxPool2dReluBackward" : "MaxPool2dBackward");
        }
    }

    [SkippableFact]
    public void A_max_pool_argmax_outside_its_plane_is_refused_by_the_cpu_backward()
    {
        Skip.IfNot(B is Plastic.Compute.Cpu.CpuBackend, "The CPU backend checks every argmax; GPU kernels trust MaxPool2dForward's.");
        var pg = new PoolGeometry(2);
        using var dy = Up([1f, 2f], 1, 2, 1, 1);
        using var post = Up([1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f], 1, 2, 2, 2);
        using var dx = B.Allocate(post.Shape);
        using var idx = B.AllocateIndices(dy.Shape);
        B.Upload([0, 1], idx); // plane 1's maximum cannot be at index 1, which is in plane 0
        var e = Assert.Throws<ArgumentException>(() => B.MaxPool2dBackward(dy, idx, dx, pg));
        Assert.Contains("argmax[1] = 1 is outside its plane", e.Message);
        e = Assert.Throws<ArgumentException>(() => B.MaxPool2dReluBackward(dy, idx, post, dx, pg));
        Assert.Contains("MaxPool2dReluBackward: argmax[1] = 1 is outside its plane", e.Message);
    }

    [SkippableFact]
    public void Pooling_backward_agrees_with_finite_differences()
    {
        const int planes = 3, h = 6, w = 7;
        var pg = new PoolGeometry(2);
        var x = TestData.Normal(planes * h * w, 10); var dy = TestData.Normal(planes * 3 * 3, 11);
        using var tdy = Up(dy, 1, planes, 3, 3);
        double MaxLoss(float[] xv)
        {
            using var tx = Up(xv, 1, planes, h, w); using var ty = B.Allocate(tdy.Shape); using var i = B.AllocateIndices(tdy.Shape);
            B.MaxPool2dForward(tx, ty, i, pg);
            return B.Dot(ty, tdy);
        }
        double AvgLoss(float[] xv)
        {
            using var tx = Up(xv, 1, planes, h, w); using var ty = B.Allocate(tdy.Shape);
            B.AvgPool2dForward(tx, ty, pg);
            return B.Dot(ty, tdy);
        }
        using var tx0 = Up(x, 1, planes, h, w); using var ty0 = B.Allocate(tdy.Shape); using var idx = B.AllocateIndices(tdy.Shape);
        using var tdx = B.Allocate(tx0.Shape);
        B.MaxPool2dForward(tx0, ty0, idx, pg);
        B.MaxPool2dBackward(tdy, idx, tdx, pg);
        FiniteDifference.Check(x, MaxLoss, tdx.ToArray(), "max-pool dL/dx", step: 1e-3);
        B.AvgPool2dBackward(tdy, tdx, pg);
        FiniteDifference.Check(x, AvgLoss, tdx.ToArray(), "avg-pool dL/dx");
    }

    [SkippableFact]
    public void Relu_mask_and_backward()
    {
        var x = TestData.Normal(1025, 12); var dy = TestData.Normal(1025, 13);
        using var tx = Up(x, 1025); using var ty = B.Allocate(tx.Shape); using var tm = B.Allocate(tx.Shape);
        using var tdy = Up(dy, 1025); using var tdx = B.Allocate(tx.Shape);
        B.Relu(tx, ty); B.ReluMask(ty, tm); B.ReluBackward(tdy, ty, tdx);
        Tolerance.AssertBitIdentical(x.Select(v => Math.Max(v, 0f)).ToArray(), ty.ToArray(), "Relu");
        Tolerance.AssertBitIdentical(x.Select(v => v > 0 ? 1f : 0f).ToArray(), tm.ToArray(), "ReluMask");
        Tolerance.AssertBitIdentical(x.Select((v, i) => v > 0 ? dy[i] : 0f).ToArray(), tdx.ToArray(), "ReluBackward");
        double Loss(float[] xv)
        {
            using var t = Up(xv, 1025); using var o = B.Allocate(t.Shape);
            B.Relu(t, o);
            return B.Dot(o, tdy);
        }
        FiniteDifference.Check(x, Loss, tdx.ToArray(), "relu dL/dx", step: 1e-3);
    }

    [SkippableFact]
    public void Bias_add_and_gradient_for_rows_and_channels()
    {
        var x2 = TestData.Normal(7 * 33, 14); var b33 = TestData.Normal(33, 15);
        using var t2 = Up(x2, 7, 33); using var tb = Up(b33, 33); using var tdb = B.Allocate(tb.Shape);
        B.AddBias(t2, tb);
        Tolerance.AssertClose(x2.Select((v, i) => v + b33[i % 33]).ToArray(), t2.ToArray(), what: "AddBias rows");
        B.BiasGradient(t2, tdb);
        var expected = new float[33];
        for (int r = 0; r < 7; r++) for (int f = 0; f < 33; f++) expected[f] += x2[r * 33 + f] + b33[f];
        Tolerance.AssertClose(expected, tdb.ToArray(), what: "BiasGradient rows");

        var x4 = TestData.Normal(3 * 5 * 4 * 3, 16); var b5 = TestData.Normal(5, 17);
        using var t4 = Up(x4, 3, 5, 4, 3); using var tb5 = Up(b5, 5); using var tdb5 = Up(new float[] { 1, 1, 1, 1, 1 }, 5);
        B.AddBias(t4, tb5);
        Tolerance.AssertClose(x4.Select((v, i) => v + b5[i / 12 % 5]).ToArray(), t4.ToArray(), what: "AddBias channels");
        B.BiasGradient(t4, tdb5, accumulate: true);
        var e5 = new float[] { 1, 1, 1, 1, 1 };
        for (int i = 0; i < x4.Length; i++) e5[i / 12 % 5] += x4[i] + b5[i / 12 % 5];
        Tolerance.AssertClose(e5, tdb5.ToArray(), what: "BiasGradient channels, accumulate");

        using var wrong = B.Allocate(new Shape(4));
        var e = Assert.Throws<ShapeMismatchException>(() => B.AddBias(t4, wrong));
        Assert.Contains("AddBias", e.Message);
    }

    [SkippableFact]
    public void Elementwise_and_reductions()
    {
        const int n = 70_001; // several chunks and a ragged tail
        var a = TestData.Normal(n, 18); var b = TestData.Normal(n, 19);
        using var ta = Up(a, n); using var tb = Up(b, n); using var ty = B.Allocate(ta.Shape);
        B.Add(ta, tb, ty); Tolerance.AssertBitIdentical(a.Select((v, i) => v + b[i]).ToArray(), ty.ToArray(), "Add");
        B.Subtract(ta, tb, ty); Tolerance.AssertBitIdentical(a.Select((v, i) => v - b[i]).ToArray(), ty.ToArray(), "Subtract");
        B.Multiply(ta, tb, ty); Tolerance.AssertBitIdentical(a.Select((v, i) => v * b[i]).ToArray(), ty.ToArray(), "Multiply");
        B.Scale(ta, -3f, ty); Tolerance.AssertBitIdentical(a.Select(v => v * -3f).ToArray(), ty.ToArray(), "Scale");
        B.Copy(tb, ty); B.Axpy(0.25f, ta, ty); Tolerance.AssertClose(a.Select((v, i) => b[i] + 0.25f * v).ToArray(), ty.ToArray(), what: "Axpy");
        B.Fill(ty, 1.5f); Assert.All(ty.ToArray(), v => Assert.Equal(1.5f, v));

        double sum = 0, dot = 0, sq = 0;
        for (int i = 0; i < n; i++) { sum += a[i]; dot += (double)a[i] * b[i]; sq += (double)a[i] * a[i]; }
        Assert.Equal(sum, B.Sum(ta), 1e-5 * Math.Sqrt(sq));
        Assert.Equal(dot, B.Dot(ta, tb), 1e-5 * Math.Sqrt(sq));
        Assert.Equal(Math.Sqrt(sq), B.Norm(ta), 1e-5 * Math.Sqrt(sq));
        Assert.Equal(dot / Math.Sqrt(sq * b.Sum(v => (double)v * v)), B.Cosine(ta, tb), 1e-5);
        Assert.Equal(1.0, B.Cosine(ta, ta), 1e-6);
    }

    [SkippableFact]
    public void Log_softmax_and_cross_entropy_match_reference_and_finite_differences()
    {
        const int rows = 9, classes = 11;
        var z = TestData.Normal(rows * classes, 20).Select(v => 3 * v).ToArray();
        var labels = TestData.Labels(rows, classes, 21);
        using var tz = Up(z, rows, classes); using var tl = B.UploadIndices(labels, new Shape(rows));
        using var tlog = B.Allocate(tz.Shape); using var tg = B.Allocate(tz.Shape);
        B.LogSoftmax(tz, tlog);
        Tolerance.AssertClose(Reference.LogSoftmax(z, rows, classes), tlog.ToArray(), what: "LogSoftmax");
        double loss = B.SoftmaxCrossEntropy(tz, tl, tg);
        var (eloss, egrad) = Reference.SoftmaxCrossEntropy(z, rows, classes, labels);
        Assert.Equal(eloss, loss, 1e-5 * Math.Abs(eloss));
        Tolerance.AssertClose(egrad, tg.ToArray(), what: "SoftmaxCrossEntropy gradient");
        double Loss(float[] zv) { using var t = Up(zv, rows, classes); return B.SoftmaxCrossEntropy(t, tl, null); }
        FiniteDifference.Check(z, Loss, tg.ToArray(), "cross-entropy dL/dz", step: 1e-2);

        using var bad = B.UploadIndices(labels.Select((v, i) => i == 4 ? classes : v).ToArray(), new Shape(rows));
        var e = Assert.Throws<ArgumentException>(() => B.SoftmaxCrossEntropy(tz, bad, null));
        Assert.Contains("labels[4]", e.Message);
    }

    [SkippableFact]
    public void Optimiser_steps_match_reference()
    {
        const int n = 1031;
        var p = TestData.Normal(n, 22); var m = new float[n]; var v = new float[n];
        using var tp = Up(p, n); using var tm = B.Allocate(tp.Shape); using var tv = B.Allocate(tp.Shape);
        var settings = new AdamWSettings(2e-3f, WeightDecay: 0.01f);
        // Steps 200 and 20000: the bias corrections have reached 1 in single precision (the first, then both).
        foreach (int step in new[] { 1, 2, 3, 200, 20000 })
        {
            var g = TestData.Normal(n, 100 + step);
            using var tg = Up(g, n);
            B.AdamWStep(tp, tg, tm, tv, settings, step);
            Reference.AdamW(p, g, m, v, 2e-3, 0.9, 0.999, 1e-8, 0.01, step);
        }
        Tolerance.AssertClose(p, tp.ToArray(), what: "AdamW parameters");
        Tolerance.AssertClose(m, tm.ToArray(), what: "AdamW first moment");

        var q = TestData.Normal(n, 23); var vel = new float[n];
        using var tq = Up(q, n); using var tvel = B.Allocate(tq.Shape);
        for (int step = 1; step <= 3; step++)
        {
            var g = TestData.Normal(n, 200 + step);
            using var tg = Up(g, n);
            B.SgdStep(tq, tg, tvel, new SgdSettings(0.1f, 0.9f, 1e-3f));
            Reference.Sgd(q, g, vel, 0.1, 0.9, 1e-3);
        }
        Tolerance.AssertClose(q, tq.ToArray(), what: "SGD parameters");
    }

    [SkippableFact]
    public void Random_streams_are_keyed_and_well_distributed()
    {
        const int n = 200_000;
        using var u = B.Allocate(new Shape(n)); using var g = B.Allocate(new Shape(n)); using var g2 = B.Allocate(new Shape(n));
        var key = new RandomStream(42, 7);
        B.FillUniform(u, key, -1f, 3f);
        B.FillNormal(g, key, 0f, 1f);
        B.FillNormal(g2, key, 0f, 1f);
        Tolerance.AssertBitIdentical(g.ToArray(), g2.ToArray(), "same key, same draw");
        var us = u.ToArray(); var gs = g.ToArray();
        Assert.All(us, v => Assert.InRange(v, -1f, 3f));
        Assert.Equal(1.0, us.Average(), 0.02);                        // mean of U(-1, 3)
        Assert.Equal(0.0, gs.Average(), 0.01);
        Assert.Equal(1.0, gs.Select(v => (double)v * v).Average(), 0.02);
        B.FillNormal(g2, key.Derive(1), 0f, 1f);
        Assert.InRange(B.Cosine(g, g2), -0.01, 0.01);                 // another stream is independent
        // The values themselves are a property of the key, not of the backend.
        for (int i = 0; i < 1000; i += 97) Assert.Equal(key.Normal((ulong)i), gs[i], 1e-5f);
    }

    [SkippableFact]
    public void Repeated_runs_are_bit_identical()
    {
        var a = TestData.Normal(70 * 300, 24); var b = TestData.Normal(300 * 90, 25);
        using var ta = Up(a, 70, 300); using var tb = Up(b, 300, 90); using var c1 = B.Allocate(new Shape(70, 90)); using var c2 = B.Allocate(new Shape(70, 90));
        B.Gemm(ta, false, tb, false, c1); B.Gemm(ta, false, tb, false, c2);
        Tolerance.AssertBitIdentical(c1.ToArray(), c2.ToArray(), "Gemm twice");

        var x = TestData.Normal(4 * 3 * 10 * 10, 26); var dy = TestData.Normal(4 * 8 * 10 * 10, 27);
        using var tx = Up(x, 4, 3, 10, 10); using var tdy = Up(dy, 4, 8, 10, 10);
        using var w1 = B.Allocate(new Shape(8, 3, 3, 3)); using var w2 = B.Allocate(new Shape(8, 3, 3, 3));
        var g = new ConvGeometry(3, 1, 1);
        B.Conv2dBackwardWeight(tx, tdy, w1, null, g);
        B.Conv2dBackwardWeight(tx, tdy, w2, null, g);
        Tolerance.AssertBitIdentical(w1.ToArray(), w2.ToArray(), "Conv2dBackwardWeight twice");
        using var y1 = B.Allocate(tdy.Shape); using var y2 = B.Allocate(tdy.Shape);
        B.Conv2dForward(tx, w1, null, y1, g); B.Conv2dForward(tx, w1, null, y2, g);
        Tolerance.AssertBitIdentical(y1.ToArray(), y2.ToArray(), "Conv2dForward twice");
        using var dx1 = B.Allocate(tx.Shape); using var dx2 = B.Allocate(tx.Shape);
        B.Conv2dBackwardInput(tdy, w1, dx1, g); B.Conv2dBackwardInput(tdy, w1, dx2, g);
        Tolerance.AssertBitIdentical(dx1.ToArray(), dx2.ToArray(), "Conv2dBackwardInput twice");
    }

    [SkippableFact]
    public void Reshape_shares_storage_and_checks_length()
    {
        using var t = Up([1, 2, 3, 4, 5, 6], 2, 3);
        var view = t.Reshape(new Shape(3, 2));
        B.Scale(view, 2f, view);
        Assert.Equal([2f, 4, 6, 8, 10, 12], t.ToArray());
        Assert.Throws<ShapeMismatchException>(() => t.Reshape(new Shape(4, 2)));

        var second = t.Rows(1, 1); // the second row of the 2x3 tensor, as a view
        Assert.Equal(new Shape(1, 3), second.Shape);
        Assert.Equal([8f, 10, 12], second.ToArray());
        B.Fill(second, 0f);
        Assert.Equal([2f, 4, 6, 0, 0, 0], t.ToArray());
        using var m = Up([1, 2, 3, 4, 5, 6], 3, 2);
        using var c = B.Allocate(new Shape(1, 1));
        B.Gemm(m.Rows(2, 1), false, m.Rows(1, 1), true, c); // [5 6] . [3 4]
        Assert.Equal(39f, c.ToArray()[0]);
        Assert.Throws<ShapeMismatchException>(() => t.Rows(1, 2));
    }
}
