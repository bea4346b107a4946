using Plastic.Datasets.Augment;
using Plastic.Datasets.Readers;

namespace Plastic.Tests.Datasets;

/// <summary>
/// STL-10's probe test transform, Resize(105) then CenterCrop(96) (PAPER.md 4.4), against values worked
/// out by hand. Output pixel j of the crop is pixel d = j + 4 of the 105-pixel resize (the crop starts at
/// round((105 - 96) / 2) = round(4.5) = 4), which samples the 96-pixel input at
/// s = (d + 0.5) * 96 / 105 - 0.5 and mixes input pixels floor(s) and floor(s) + 1 with weights 1 - f, f.
/// </summary>
public sealed class ProbeTestTransformTests
{
    private const int Side = 96, Crop = 96, Plane = Side * Side;

    private static byte[] Transform(Func<int, int, int, int> value, int channels = 3)
    {
        var image = new byte[channels * Plane];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < Side; y++)
                for (int x = 0; x < Side; x++)
                    image[c * Plane + y * Side + x] = (byte)value(c, y, x);
        var output = new byte[channels * Crop * Crop];
        ProbeTestTransform.ResizeCenterCrop(image, channels, Side, Side, 105, Crop, output);
        return output;
    }

    [Fact]
    public void A_constant_image_stays_constant()
    {
        var output = Transform((c, _, _) => 123 + c);
        for (int c = 0; c < 3; c++) Assert.All(output.AsSpan(c * Crop * Crop, Crop * Crop).ToArray(), v => Assert.Equal(123 + c, v));
    }

    [Fact]
    public void A_horizontal_ramp_takes_the_bilinear_values_worked_out_by_hand()
    {
        // Input column x holds 2x (+ 10 in the green plane); bilinear interpolation of a ramp is the ramp at s, 2s.
        var output = Transform((c, _, x) => 2 * x + 10 * c);
        // j = 0: d = 4, s = 4.5 * 96/105 - 0.5 = 4.1142857 - 0.5 = 3.6142857, 2s = 7.23 -> 7
        // j = 1: d = 5, s = 5.5 * 96/105 - 0.5 = 5.0285714 - 0.5 = 4.5285714, 2s = 9.06 -> 9
        // j = 50: d = 54, s = 54.5 * 96/105 - 0.5 = 49.828571 - 0.5 = 49.328571, 2s = 98.66 -> 99
        // j = 95: d = 99, s = 99.5 * 96/105 - 0.5 = 90.971429 - 0.5 = 90.471429, 2s = 180.94 -> 181
        (int Column, int Value)[] expected = [(0, 7), (1, 9), (50, 99), (95, 181)];
        foreach (int row in new[] { 0, 37, 95 })
            foreach (var (column, value) in expected)
            {
                Assert.Equal(value, output[row * Crop + column]);
                Assert.Equal(value + 10, output[Crop * Crop + row * Crop + column]);   // green: the same ramp, 10 higher
            }
    }

    [Fact]
    public void A_step_is_blended_only_where_the_sample_falls_between_its_two_sides()
    {
        // Columns 0-47 hold 0, 48-95 hold 200.
        // j = 47: d = 51, s = 51.5 * 96/105 - 0.5 = 46.59: between columns 46 and 47, both 0 -> 0
        // j = 48: d = 52, s = 52.5 * 96/105 - 0.5 = 47.5: half of column 47 (0), half of 48 (200) -> 100
        // j = 49: d = 53, s = 53.5 * 96/105 - 0.5 = 48.41: between columns 48 and 49, both 200 -> 200
        var output = Transform((_, _, x) => x < 48 ? 0 : 200, channels: 1);
        Assert.Equal([0, 100, 200], output[(10 * Crop + 47)..(10 * Crop + 50)]);
        // The same step along the rows, through the other axis.
        var vertical = Transform((_, y, _) => y < 48 ? 0 : 200, channels: 1);
        Assert.Equal([0, 100, 200], new[] { vertical[47 * Crop + 3], vertical[48 * Crop + 3], vertical[49 * Crop + 3] });
    }

    [Fact]
    public void Both_axes_are_interpolated_together()
    {
        // Input x + y: the output is s_x + s_y.
        // (row 10, column 20): s_y = 14.5 * 96/105 - 0.5 = 12.757143, s_x = 24.5 * 96/105 - 0.5 = 21.9; sum 34.66 -> 35
        // (row 95, column 95): 90.471429 * 2 = 180.94 -> 181; (row 0, column 95): 3.6142857 + 90.471429 = 94.09 -> 94
        var output = Transform((_, y, x) => x + y, channels: 1);
        Assert.Equal(35, output[10 * Crop + 20]);
        Assert.Equal(181, output[95 * Crop + 95]);
        Assert.Equal(94, output[0 * Crop + 95]);
    }

    [Fact]
    public void Stl10_test_images_are_transformed_and_the_others_are_left_as_they_are()
    {
        var pixels = new byte[2 * 3 * Plane];
        for (int i = 0; i < 3 * Plane; i++) pixels[3 * Plane + i] = (byte)(2 * (i % Side));   // image 1: the ramp
        var images = new LabelledImages("toy", pixels, [3, 7], 3, Side, Side, 10);
        var stl = ProbeTestTransform.Apply("stl10", images);
        Assert.Equal((2, 3, 96, 96), (stl.Count, stl.Channels, stl.Height, stl.Width));
        Assert.Equal([3, 7], stl.Labels);
        Assert.Equal(0, stl.Image(0)[500]);
        Assert.Equal(7, stl.Image(1)[0]);
        Assert.Equal(181, stl.Image(1)[2 * Plane + 95]);
        Assert.Same(images, ProbeTestTransform.Apply("cifar10", images));
        Assert.Contains("the crop must fit", Assert.Throws<ArgumentException>(() =>
            ProbeTestTransform.ResizeCenterCrop(new byte[Plane], 1, Side, Side, 50, 96, new byte[Plane])).Message);
    }
}
