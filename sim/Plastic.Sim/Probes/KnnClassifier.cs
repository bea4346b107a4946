using Plastic.Compute;

namespace Plastic.Sim.Probes;

/// <summary>
/// k-nearest-neighbour accuracy on frozen features (a probe without training, common in self-supervised
/// work): each test sample takes the majority label of its k most cosine-similar training samples, ties
/// going to the label whose nearest member is closest. The training features arrive in blocks (never all
/// at once) and each test row keeps its k best so far; similarities come from the backend's GEMM.
/// </summary>
public static class KnnClassifier
{
    private const int TestBlock = 256;

    /// <summary>Rows per block of <see cref="Blocks"/>: 2^22 floats (16 MiB) of features, at least one row.</summary>
    private const long BlockFloats = 1L << 22;

    /// <summary>
    /// Accuracy on <paramref name="test"/> against the training rows of <paramref name="train"/> (blocks of
    /// [n, test.Width] rows and their labels, <paramref name="trainCount"/> rows in all, in a fixed order: among
    /// equally similar rows the earlier one is kept).
    /// </summary>
    public static double Accuracy(IComputeBackend b, IEnumerable<(float[] Rows, byte[] Labels)> train, int trainCount, FeatureRows test, byte[] testLabels, int classes, int k)
    {
        int nTest = testLabels.Length, features = test.Width;
        if (k < 1 || k > trainCount) throw new ArgumentException($"kNN: k = {k} must be between 1 and the {trainCount} training samples.");
        var testTensors = new List<Tensor>();
        try
        {
            for (int first = 0; first < nTest; first += TestBlock)
            {
                int m = Math.Min(TestBlock, nTest - first);
                testTensors.Add(b.Upload(Normalised(test.Copy(first, m), features), new Shape(m, features)));
            }
            // The k best training rows of every test row so far: similarity and label, and how many slots are filled.
            var similarity = new float[(long)nTest * k];
            var label = new byte[(long)nTest * k];
            var filled = new int[nTest];
            foreach (var (rows, labels) in train)
            {
                int n = labels.Length;
                using var block = b.Upload(Normalised(rows, features), new Shape(n, features));
                for (int t = 0; t < testTensors.Count; t++)
                {
                    int m = testTensors[t].Shape[0];
                    using var product = b.Allocate(new Shape(m, n));
                    b.Gemm(testTensors[t], false, block, true, product);
                    var s = product.ToArray();
                    for (int i = 0; i < m; i++)
                    {
                        int row = t * TestBlock + i;
                        Keep(s.AsSpan(i * n, n), labels, similarity.AsSpan(row * k, k), label.AsSpan(row * k, k), ref filled[row]);
                    }
                }
            }
            int correct = 0;
            var votes = new int[classes];
            var closest = new float[classes];
            for (int row = 0; row < nTest; row++)
            {
                Array.Clear(votes);
                Array.Fill(closest, float.NegativeInfinity);
                for (int j = 0; j < k; j++)
                {
                    int l = label[row * k + j];
                    votes[l]++;
                    closest[l] = Math.Max(closest[l], similarity[row * k + j]);
                }
                int best = 0;
                for (int c = 1; c < classes; c++)
                    if (votes[c] > votes[best] || (votes[c] == votes[best] && closest[c] > closest[best])) best = c;
                if (best == testLabels[row]) correct++;
            }
            return (double)correct / nTest;
        }
        finally
        {
            testTensors.ForEach(t => t.Dispose());
        }
    }

    /// <summary>Rows of <paramref name="x"/> in blocks of whole rows, with their labels (for <see cref="Accuracy"/>).</summary>
    public static IEnumerable<(float[] Rows, byte[] Labels)> Blocks(FeatureRows x, byte[] labels)
    {
        int per = (int)Math.Max(1, BlockFloats / x.Width);
        for (int first = 0; first < x.Count; first += per)
        {
            int n = Math.Min(per, x.Count - first);
            yield return (x.Copy(first, n), labels[first..(first + n)]);
        }
    }

    /// <summary>
    /// Merges one test row's similarities to a block of training rows into its k best: the first k fill the
    /// slots, then a row replaces the least similar slot only when strictly more similar.
    /// </summary>
    private static void Keep(ReadOnlySpan<float> row, byte[] labels, Span<float> similarity, Span<byte> label, ref int filled)
    {
        int k = similarity.Length, j = 0;
        for (; j < row.Length && filled < k; j++, filled++) { similarity[filled] = row[j]; label[filled] = labels[j]; }
        if (j == row.Length) return;
        int worst = Worst(similarity);
        for (; j < row.Length; j++)
        {
            if (row[j] <= similarity[worst]) continue;
            similarity[worst] = row[j];
            label[worst] = labels[j];
            worst = Worst(similarity);
        }
    }

    private static int Worst(ReadOnlySpan<float> similarity)
    {
        int worst = 0;
        for (int j = 1; j < similarity.Length; j++) if (similarity[j] < similarity[worst]) worst = j;
        return worst;
    }

    /// <summary>Rows scaled to unit length (a zero row stays zero), so a dot product is a cosine.</summary>
    private static float[] Normalised(float[] x, int features)
    {
        var unit = new float[x.Length];
        for (int i = 0; i < x.Length / features; i++)
        {
            var row = x.AsSpan(i * features, features);
            double norm = Math.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot(row, row));
            float scale = norm > 0 ? (float)(1 / norm) : 0f;
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, scale, unit.AsSpan(i * features, features));
        }
        return unit;
    }
}
