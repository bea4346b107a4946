using Plastic.Compute;

namespace Plastic.Sim.Probes;

/// <summary>
/// k-nearest-neighbour accuracy on frozen features (a probe without training, common in self-supervised
/// work): each test sample takes the majority label of its k most cosine-similar training samples, ties
/// going to the label whose nearest member is closest. Similarities come from the backend's GEMM in blocks.
/// </summary>
public static class KnnClassifier
{
    public static double Accuracy(IComputeBackend b, float[] train, byte[] trainLabels, float[] test, byte[] testLabels, int features, int classes, int k)
    {
        int nTrain = trainLabels.Length, nTest = testLabels.Length;
        if (k < 1 || k > nTrain) throw new ArgumentException($"kNN: k = {k} must be between 1 and the {nTrain} training samples.");
        using var trainTensor = b.Upload(Normalised(train, features), new Shape(nTrain, features));
        var testUnit = Normalised(test, features);
        const int block = 256;
        int correct = 0;
        var nearest = new (float Similarity, int Index)[k];
        var votes = new int[classes];
        var closest = new float[classes];
        for (int first = 0; first < nTest; first += block)
        {
            int m = Math.Min(block, nTest - first);
            using var x = b.Upload(testUnit.AsSpan(first * features, m * features), new Shape(m, features));
            using var similarity = b.Allocate(new Shape(m, nTrain));
            b.Gemm(x, false, trainTensor, true, similarity);
            var s = similarity.ToArray();
            for (int i = 0; i < m; i++)
            {
                TopK(s.AsSpan(i * nTrain, nTrain), nearest);
                Array.Clear(votes);
                Array.Fill(closest, float.NegativeInfinity);
                foreach (var (sim, index) in nearest)
                {
                    int label = trainLabels[index];
                    votes[label]++;
                    closest[label] = Math.Max(closest[label], sim);
                }
                int best = 0;
                for (int c = 1; c < classes; c++)
                    if (votes[c] > votes[best] || (votes[c] == votes[best] && closest[c] > closest[best])) best = c;
                if (best == testLabels[first + i]) correct++;
            }
        }
        return (double)correct / nTest;
    }

    /// <summary>The k largest similarities and their indices (unordered), by a running minimum over a small buffer.</summary>
    private static void TopK(ReadOnlySpan<float> row, (float Similarity, int Index)[] nearest)
    {
        int k = nearest.Length;
        for (int j = 0; j < k; j++) nearest[j] = (row[j], j);
        int worst = Worst(nearest);
        for (int j = k; j < row.Length; j++)
        {
            if (row[j] <= nearest[worst].Similarity) continue;
            nearest[worst] = (row[j], j);
            worst = Worst(nearest);
        }
    }

    private static int Worst((float Similarity, int Index)[] nearest)
    {
        int worst = 0;
        for (int j = 1; j < nearest.Length; j++) if (nearest[j].Similarity < nearest[worst].Similarity) worst = j;
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
