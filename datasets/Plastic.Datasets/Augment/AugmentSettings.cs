namespace Plastic.Datasets.Augment;

/// <summary>
/// The SimCLR-style view augmentations of PAPER.md 4.2, per data set: RandomResizedCrop(size, scale,
/// aspect 3/4 to 4/3), horizontal flip p 0.5, colour jitter (brightness, contrast, saturation 0.8, hue
/// 0.2) with p 0.8, grayscale p 0.2, Gaussian blur (kernel ~0.1 x size, odd; sigma 0.1 to 2) with p 0.5,
/// then normalisation by the data set's mean and std.
/// </summary>
public sealed record AugmentSettings(int Size, double MinScale, double[] Mean, double[] Std, int BlurKernel,
    double Jitter = 0.8, double Hue = 0.2, double JitterProbability = 0.8, double GrayscaleProbability = 0.2,
    double BlurProbability = 0.5, double FlipProbability = 0.5)
{
    /// <summary>PAPER.md 4.2: CIFAR-10 crops with scale 0.25 to 1, blur kernel 3, mean (125.3, 123.0, 113.9)/255, std (63.0, 62.1, 66.7)/255.</summary>
    public static AugmentSettings Cifar10 => new(32, 0.25, [125.3 / 255, 123.0 / 255, 113.9 / 255], [63.0 / 255, 62.1 / 255, 66.7 / 255], 3);

    /// <summary>
    /// CIFAR-100 (not in PAPER.md; the released code's fifth data set): CIFAR-10's crops and blur, normalised
    /// by CIFAR-100's training-set mean (0.5071, 0.4865, 0.4409) and std (0.2673, 0.2564, 0.2762), the values
    /// the CIFAR-100 literature and solo-learn use.
    /// </summary>
    public static AugmentSettings Cifar100 => new(32, 0.25, [0.5071, 0.4865, 0.4409], [0.2673, 0.2564, 0.2762], 3);

    /// <summary>PAPER.md 4.2: STL-10 at 96 px, scale 0.08 to 1, blur kernel 9.</summary>
    public static AugmentSettings Stl10 => new(96, 0.08, [0.4313, 0.4156, 0.3663], [0.2683, 0.2610, 0.2687], 9);

    /// <summary>PAPER.md 4.2: Tiny ImageNet at 64 px, scale 0.08 to 1, blur kernel 7.</summary>
    public static AugmentSettings TinyImageNet => new(64, 0.08, [0.4802, 0.4481, 0.3975], [0.2302, 0.2265, 0.2262], 7);

    /// <summary>MNIST-like grey images at 28 px (not a paper setting: for quick runs), scale 0.25 to 1, blur kernel 3.</summary>
    public static AugmentSettings Grey28(double mean, double std) => new(28, 0.25, [mean], [std], 3);

    /// <summary>
    /// The linear probe's training augmentation (PAPER.md 4.4): RandomResizedCrop(size, scale 0.08 to 1) and a
    /// horizontal flip with p 0.5, then this set's normalisation; no colour jitter, grayscale or blur. The crop
    /// scale is the probe's own, whatever the SSL views use (CIFAR's 0.25 included).
    /// </summary>
    public AugmentSettings ForProbeTraining() =>
        this with { MinScale = 0.08, FlipProbability = 0.5, JitterProbability = 0, GrayscaleProbability = 0, BlurProbability = 0 };

    public static AugmentSettings For(string dataset) => dataset switch
    {
        "cifar10" => Cifar10,
        "cifar100" or "cifar100-coarse" => Cifar100,
        "stl10" => Stl10,
        "tiny-imagenet" => TinyImageNet,
        "mnist" => Grey28(0.1307, 0.3081),
        "fashion-mnist" => Grey28(0.2860, 0.3530),
        _ => throw new ArgumentException($"No augmentation settings for '{dataset}'."),
    };
}
