using Plastic.Topology;

namespace Plastic.Tests.Topology;

public sealed class SpecJsonTests
{
    private const string Valid = """
        {
          "name": "small",
          "input": { "channels": 3, "height": 8, "width": 8 },
          "rule": "clapp++",
          "layers": [
            { "name": "c1", "kind": "conv", "width": 4, "maxPool": 2, "lossPool": 2 },
            { "name": "c2", "kind": "conv", "width": 6, "kernel": 3, "padding": 1 },
            { "name": "fc", "kind": "linear", "width": 5, "activation": "identity", "rule": "bp" }
          ],
          "feedback": [ { "from": "fc", "to": "c1" } ]
        }
        """;

    [Fact]
    public void A_valid_spec_parses_with_defaults_and_inferred_shapes()
    {
        var spec = NetworkSpecJson.Parse(Valid, "small.json");
        Assert.Equal(3, spec.Layers.Count);
        Assert.Equal(3, spec.Layers[0].Kernel);        // default
        Assert.Equal("bp", spec.RuleOf(spec.Layers[2]));
        Assert.Equal("clapp++", spec.RuleOf(spec.Layers[0]));
        var shapes = NetworkValidator.Validate(spec);
        Assert.Equal(new FeatureShape(4, 4, 4), shapes[0].Output);
        Assert.Equal(new FeatureShape(4, 2, 2), shapes[0].LossFeatures);
        Assert.Equal(6 * 4 * 4, shapes[2].Input.Size);   // the linear layer flattens c2's output
        Assert.Equal(5 * 96 + 5, shapes[2].Weights);
    }

    [Fact]
    public void Serialised_spec_reads_back_to_the_same_spec()
    {
        foreach (var spec in new[] { NetworkSpecJson.Parse(Valid, "small.json"), Presets.Vgg6(64, 0.5, directFeedback: true), Presets.DeepLinear() })
        {
            string json = NetworkSpecJson.Serialize(spec);
            Assert.Equal(json, NetworkSpecJson.Serialize(NetworkSpecJson.Parse(json, "round-trip")));
        }
    }

    [Theory]
    [InlineData("\"width\": 4, \"maxPool\"", "\"width\": 4, \"maxpool\"", "layers[0] 'c1': unknown field 'maxpool'")]
    [InlineData("\"kind\": \"conv\", \"width\": 6", "\"kind\": \"pool\", \"width\": 6", "layers[1] 'c2': field 'kind' is 'pool'")]
    [InlineData("\"kind\": \"conv\", \"width\": 6", "\"kind\": \"conv\", \"width\": -6", "layer 2 'c2': field 'width' is -6")]
    [InlineData("\"to\": \"c1\"", "\"to\": \"c9\"", "feedback edge 1 (fc -> c9): field 'to' names layer 'c9', which does not exist")]
    [InlineData("\"from\": \"fc\", \"to\": \"c1\"", "\"from\": \"c1\", \"to\": \"fc\"", "a feedback edge runs top-down")]
    [InlineData("\"maxPool\": 2, \"lossPool\": 2", "\"maxPool\": 16, \"lossPool\": 2", "layer 1 'c1': field 'maxPool' is 16, larger than the activation height (8); the shapes do not chain")]
    [InlineData("\"maxPool\": 2, \"lossPool\": 2", "\"maxPool\": 2, \"lossPool\": 8", "layer 1 'c1': field 'lossPool' is 8, larger than the output height (4)")]
    [InlineData("\"name\": \"c2\"", "\"name\": \"c1\"", "layer 2 'c1': field 'name' repeats")]
    [InlineData("\"width\": 4, \"maxPool\": 2", "\"width\": 4.5, \"maxPool\": 2", "layers[0] 'c1': field 'width' must be an integer")]
    public void Invalid_specs_fail_naming_file_layer_and_field(string from, string to, string expected)
    {
        Assert.Contains(from, Valid);
        var e = Assert.Throws<SpecException>(() => NetworkSpecJson.Parse(Valid.Replace(from, to), "small.json"));
        Assert.StartsWith("small.json: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_conv_layer_after_a_linear_layer_is_refused()
    {
        var spec = Presets.Mlp(16, [8]) with { Layers = [new LayerSpec("fc", LayerKind.Linear, 8, Kernel: 1, Padding: 0), new LayerSpec("c", LayerKind.Conv, 4)] };
        var e = Assert.Throws<SpecException>(() => NetworkValidator.Validate(spec));
        Assert.Contains("layer 2 'c'", e.Message);
        Assert.Contains("needs a spatial input", e.Message);
    }

    [Fact]
    public void Broken_json_and_missing_files_say_where()
    {
        var e = Assert.Throws<SpecException>(() => NetworkSpecJson.Parse("{ \"name\": ", "broken.json"));
        Assert.StartsWith("broken.json: not valid JSON (line 1", e.Message);
        var missing = Assert.Throws<SpecException>(() => NetworkSpecJson.Load("/nonexistent/spec.json"));
        Assert.Contains("/nonexistent/spec.json", missing.Message);
    }
}
