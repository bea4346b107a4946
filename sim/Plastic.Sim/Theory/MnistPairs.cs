using System.Collections.Immutable;
using Plastic.Compute;
using Plastic.Datasets.Idx;
using Plastic.Sim.Negatives;
using Plastic.Sim.Protocol;

namespace Plastic.Sim.Theory;

/// <summary>
/// The theory's MNIST input (PAPER.md 2.7): images in order (no shuffle), normalised with mean 0.1307
/// and std 0.3081, batch b holding images b*B .. b*B + B - 1. Negatives: the next sample (roll -1).
/// </summary>
public abstract class MnistPairs(IdxArray images, int imagesPerBatch) : IBatchSource
{
    protected const float Mean = 0.1307f, Std = 0.3081f;

    public int ImagesPerBatch => imagesPerBatch;
    public int Batches => images.Count / imagesPerBatch;

    public TrainingBatch Batch(long step)
    {
        if (step < 0 || step >= Batches)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"Batch {step} is past the {images.Count} images loaded ({Batches} batches of {imagesPerBatch}).");
        var (values, dims, samples) = Build((int)step * imagesPerBatch);
        return new TrainingBatch(TensorPayload.Adopt([.. dims], values), NegativeSampler.Draw(NegativeSampling.Next, 0, step, samples));
    }

    /// <summary>The stacked views [2 x samples, ...] of the batch starting at image <paramref name="first"/>.</summary>
    protected abstract (float[] Values, int[] Dims, int Samples) Build(int first);

    protected float Pixel(int image, int row, int column) => (images.Data[image * 784 + row * 28 + column] / 255f - Mean) / Std;
}

/// <summary>
/// Figures 2 and 3a: each image cut into a 2 x 2 grid of 14 x 14 patches; a pair is the top and the
/// bottom patch of one column (view 1 top, view 2 bottom, 196 values each). Samples are column-major
/// (all images' left columns, then their right columns), so the next sample is another image.
/// </summary>
public sealed class MnistPatchPairs(IdxArray images, int imagesPerBatch) : MnistPairs(images, imagesPerBatch)
{
    protected override (float[] Values, int[] Dims, int Samples) Build(int first)
    {
        int samples = 2 * ImagesPerBatch;
        var values = new float[2 * samples * 196];
        for (int column = 0; column < 2; column++)
            for (int i = 0; i < ImagesPerBatch; i++)
            {
                int sample = column * ImagesPerBatch + i;
                for (int view = 0; view < 2; view++)
                {
                    int offset = (view * samples + sample) * 196;
                    for (int r = 0; r < 14; r++)
                        for (int c = 0; c < 14; c++)
                            values[offset + r * 14 + c] = Pixel(first + i, view * 14 + r, column * 14 + c);
                }
            }
        return (values, [2 * samples, 196], samples);
    }
}

/// <summary>
/// Figure 4b: two augmented 16 x 16 views per image, each a RandomResizedCrop (area 0.15 to 1 of the
/// image, aspect 3/4 to 4/3, bilinear) followed by RandomErasing (p 0.5, area 0.04 to 0.16, aspect
/// 0.3 to 3.3, erased to 0), drawn from (seed, image, view).
/// </summary>
public sealed class MnistCropPairs(IdxArray images, int imagesPerBatch, ulong seed) : MnistPairs(images, imagesPerBatch)
{
    private const int Size = 16;

    protected override (float[] Values, int[] Dims, int Samples) Build(int first)
    {
        int n = ImagesPerBatch;
        var values = new float[2 * n * Size * Size];
        for (int view = 0; view < 2; view++)
            for (int i = 0; i < n; i++)
                Augment(first + i, new RandomStream(seed, (ulong)((first + i) * 2 + view)), values.AsSpan((view * n + i) * Size * Size, Size * Size));
        return (values, [2 * n, 1, Size, Size], n);
    }

    private void Augment(int image, RandomStream random, Span<float> output)
    {
        // RandomResizedCrop: up to 10 tries for a box that fits, else the whole image (as torchvision).
        double top = 0, left = 0, height = 28, width = 28;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double area = 784 * (0.15 + 0.85 * random.Uniform((ulong)(4 * attempt)));
            double aspect = Math.Exp(Math.Log(3.0 / 4) + (Math.Log(4.0 / 3) - Math.Log(3.0 / 4)) * random.Uniform((ulong)(4 * attempt + 1)));
            double w = Math.Round(Math.Sqrt(area * aspect)), h = Math.Round(Math.Sqrt(area / aspect));
            if (w < 1 || h < 1 || w > 28 || h > 28) continue;
            top = Math.Floor((28 - h + 1) * random.Uniform((ulong)(4 * attempt + 2)));
            left = Math.Floor((28 - w + 1) * random.Uniform((ulong)(4 * attempt + 3)));
            height = h; width = w;
            break;
        }
        for (int r = 0; r < Size; r++)
            for (int c = 0; c < Size; c++)
            {
                // Bilinear sample at the output pixel's centre mapped into the crop box.
                double y = top + (r + 0.5) * height / Size - 0.5, x = left + (c + 0.5) * width / Size - 0.5;
                int y0 = (int)Math.Floor(y), x0 = (int)Math.Floor(x);
                double fy = y - y0, fx = x - x0;
                float At(int yy, int xx) => Pixel(image, Math.Clamp(yy, 0, 27), Math.Clamp(xx, 0, 27));
                output[r * Size + c] = (float)((1 - fy) * ((1 - fx) * At(y0, x0) + fx * At(y0, x0 + 1)) + fy * ((1 - fx) * At(y0 + 1, x0) + fx * At(y0 + 1, x0 + 1)));
            }

        // RandomErasing with probability 0.5.
        if (random.Uniform(100) >= 0.5) return;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double area = Size * Size * (0.04 + 0.12 * random.Uniform((ulong)(101 + 4 * attempt)));
            double aspect = Math.Exp(Math.Log(0.3) + (Math.Log(3.3) - Math.Log(0.3)) * random.Uniform((ulong)(102 + 4 * attempt)));
            int h = (int)Math.Round(Math.Sqrt(area * aspect)), w = (int)Math.Round(Math.Sqrt(area / aspect));
            if (h < 1 || w < 1 || h >= Size || w >= Size) continue;
            int y0 = (int)((Size - h + 1) * random.Uniform((ulong)(103 + 4 * attempt)));
            int x0 = (int)((Size - w + 1) * random.Uniform((ulong)(104 + 4 * attempt)));
            for (int r = y0; r < y0 + h; r++)
                for (int c = x0; c < x0 + w; c++) output[r * Size + c] = 0f;
            return;
        }
    }
}
