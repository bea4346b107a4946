using Plastic.Compute.Ilgpu;

namespace Plastic.Tests.Compute;

/// <summary>PLASTIC_CUBLAS: unset means cuBLAS where it loads, 1 insists on it, 0 keeps ILGPU's kernel; anything else is named back.</summary>
public sealed class CudaGemmSettingTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData(" 1 ", true)]
    [InlineData("0", false)]
    public void The_setting_reads_unset_one_and_zero(string? value, bool? expected) => Assert.Equal(expected, CudaGemm.Setting(value));

    [Theory]
    [InlineData("yes")]
    [InlineData("2")]
    public void Another_value_is_refused_with_the_variable_and_the_value_named(string value)
    {
        var e = Assert.Throws<ArgumentException>(() => CudaGemm.Setting(value));
        Assert.Contains("PLASTIC_CUBLAS", e.Message);
        Assert.Contains($"'{value}'", e.Message);
    }
}
