using Plastic.Topology;

namespace Plastic.Tests.Topology;

public sealed class PresetTests
{
    [Theory]
    [InlineData(32, new[] { 32, 16, 16, 8, 4, 2 })]
    [InlineData(64, new[] { 64, 32, 32, 16, 8, 4 })]
    [InlineData(96, new[] { 96, 48, 48, 24, 12, 6 })]
    public void Vgg6_block_outputs_and_loss_features_match_the_paper(int input, int[] outputSizes)
    {
        var shapes = NetworkValidator.Validate(Presets.Vgg6(input));
        Assert.Equal(outputSizes, shapes.Select(s => s.Output.Height));
        // PAPER.md 4.1: pooled dims 8192, 4096, 4096, 8192, 4096, 4096 (sum 32768, the probe's input) on every dataset.
        Assert.Equal(new[] { 8192, 4096, 4096, 8192, 4096, 4096 }, shapes.Select(s => s.LossFeatures.Size));
        Assert.Equal(32768, shapes.Sum(s => s.LossFeatures.Size));
        Assert.Equal(new[] { 8, 4, 4, 4, 2, 2 }, shapes.Select(s => s.LossFeatures.Height));
    }

    [Fact]
    public void Vgg6_has_about_16_million_conv_parameters_and_scales_with_width()
    {
        long full = NetworkValidator.Validate(Presets.Vgg6()).Sum(s => s.Weights);
        Assert.Equal(3 * 128 * 9 + 128 * 256 * 9 + 256 * 256 * 9 + 256 * 512 * 9 + 512 * 1024 * 9 + 1024 * 1024 * 9 + 128 + 256 + 256 + 512 + 1024 + 1024, full);
        var eighth = Presets.Vgg6(32, widthMultiplier: 0.125);
        Assert.Equal(new[] { 16, 32, 32, 64, 128, 128 }, eighth.Layers.Select(l => l.Width));
        Assert.Equal("vgg6-32px-x0.125", eighth.Name);
    }

    [Fact]
    public void Dfb_preset_sends_the_top_block_to_every_lower_block()
    {
        var spec = Presets.ByName("vgg6-cifar-dfb");
        Assert.Equal(5, spec.Feedback.Count);
        Assert.All(spec.Feedback, e => Assert.Equal("block6", e.From));
        Assert.Equal(["block1", "block2", "block3", "block4", "block5"], spec.Feedback.Select(e => e.To));
        Assert.Equal(5 + 5, spec.Edges().Count()); // 5 forward + 5 feedback
    }

    [Fact]
    public void Deep_linear_is_the_figure_2_network()
    {
        var spec = Presets.DeepLinear();
        var shapes = NetworkValidator.Validate(spec);
        Assert.All(spec.Layers, l => Assert.Equal(Activation.Identity, l.Activation));
        Assert.All(spec.Layers, l => Assert.False(l.Bias));
        Assert.Equal(196 * 128 + 5 * 128 * 128, shapes.Sum(s => s.Weights));
    }

    [Fact]
    public void Every_named_preset_is_valid_and_unknown_names_list_them()
    {
        foreach (var name in Presets.Names) NetworkValidator.Validate(Presets.ByName(name));
        var e = Assert.Throws<SpecException>(() => Presets.ByName("resnet"));
        Assert.Contains("vgg6-cifar", e.Message);
    }
}
