namespace Plastic.Compute.Cpu;

/// <summary>How the CPU backend computes 3x3 stride-1 convolutions (other shapes always use im2col GEMMs).</summary>
public enum ConvolutionAlgorithm
{
    /// <summary>Winograd where it was measured to pay (16+ channels, output rows of 32+ pixels, AVX-512), im2col elsewhere.</summary>
    Auto,
    /// <summary>Implicit im2col GEMMs everywhere: the direct sum, slower, one rounding fewer.</summary>
    Im2col,
    /// <summary>Winograd F(2x2, 3x3) for every 3x3 stride-1 convolution, whatever its channel count (tests use this).</summary>
    Winograd,
}
