using System.Text.Json.Nodes;

namespace Plastic.Tests.Cli;

/// <summary>
/// `plastic bench train`'s memory by kind: the kinds add up to the peak, the weights are the network's
/// parameter count (counted from its shapes, not from the tensors) times 4 bytes, and a local CLAPP++
/// layer's loss matrices are the B of PAPER.md 3.1 (loss-pooled features squared per layer) with their
/// gradients and two AdamW moments, where backprop has one projection at the top. And its flops a step,
/// against a count by hand.
/// </summary>
[Collection("Console")]
public sealed class BenchTrainReportTests
{
    private static JsonNode Bench(params string[] flags) => BenchOn("vgg6-cifar-small", flags);

    private static JsonNode BenchOn(string network, params string[] flags)
    {
        var (code, output, errors) = CliTests.Run(["bench", "train", network, .. flags, "--steps", "2", "--warmup", "1", "--json"]);
        Assert.True(code == 0, errors);
        return JsonNode.Parse(output)!;
    }

    [Fact]
    public void Peak_tensor_memory_is_broken_down_by_kind_and_the_kinds_match_the_network()
    {
        foreach (var flags in new[] { new[] { "--rule", "clapp++", "--graph", "local" }, ["--rule", "bp-infonce", "--graph", "backprop"] })
        {
            var report = Bench(flags);
            var kinds = report["tensor_peak_by_kind_mb"]!.AsObject();
            double sum = kinds.Sum(kv => (double)kv.Value!);
            Assert.Equal((double)report["tensor_peak_mb"]!, sum, 6);
            Assert.Equal((long)report["parameters"]! * 4 / 1e6, (double)kinds["weights"]!, 9);
            Assert.True((double)kinds["activations"]! > 0, string.Join(" ", flags));
            Assert.True((double)kinds["scratch"]! > 0, string.Join(" ", flags));
        }
        // CLAPP++'s B per layer: d x d with d the loss-pooled features 1024, 512, 512, 1024, 512, 512 at 1/8 width.
        long bFloats = new long[] { 1024, 512, 512, 1024, 512, 512 }.Sum(d => d * d);
        var local = Bench("--rule", "clapp++", "--graph", "local")["tensor_peak_by_kind_mb"]!;
        Assert.Equal(bFloats * 4 / 1e6, (double)local["loss_matrix"]!, 9);
        long parameters = (long)Bench("--rule", "clapp++", "--graph", "local")["parameters"]!;
        Assert.Equal((bFloats + parameters) * 4 / 1e6, (double)local["gradients"]!, 9);
        Assert.Equal(2 * (bFloats + parameters) * 4 / 1e6, (double)local["optimiser_state"]!, 9);
    }

    [Fact]
    public void The_flops_of_a_step_are_those_counted_by_hand()
    {
        // mlp-3 (784-256-256-256), batch 8 per view: 16 rows. Local CLAPP++: each layer's forward and weight
        // gradient (2 products), no input gradient, and its 256 x 256 B (product and two gradients).
        double fc1 = 784 * 256, fc = 256 * 256, rows = 16;
        double local = 2 * 2 * rows * (fc1 + 2 * fc) + 3 * (3 * 2 * rows * 256 * 256);
        Assert.Equal(local / 1e9, (double)BenchOn("mlp-3", "--rule", "clapp++", "--graph", "local", "--batch", "8")["step_gflop_direct"]!, 12);
        // BP-InfoNCE: forward and weight gradient everywhere, the input gradient above the first layer, one 256 x 256 projection.
        double backprop = 2 * 2 * rows * fc1 + 2 * (3 * 2 * rows * fc) + 3 * 2 * rows * 256 * 256;
        Assert.Equal(backprop / 1e9, (double)BenchOn("mlp-3", "--rule", "bp-infonce", "--graph", "backprop", "--batch", "8")["step_gflop_direct"]!, 12);
    }

    [Fact]
    public void A_direct_feedback_layer_counts_its_d_l_by_d_top_matrix()
    {
        // 1/8-width VGG-6, batch 32 per view (64 rows): loss features 1024, 512, 512, 1024, 512, 512. Under CLAPP++DFB
        // blocks 1-5 score the top's 512 features through a d_l x 512 B instead of a d_l x d_l one; the top keeps its own.
        double lateral = (double)BenchOn("vgg6-cifar-small", "--rule", "clapp++", "--graph", "local")["step_gflop_direct"]!;
        double feedback = (double)BenchOn("vgg6-cifar-small-dfb", "--rule", "clapp++dfb", "--graph", "local")["step_gflop_direct"]!;
        double difference = 3 * 2 * 64 * new double[] { 1024, 512, 512, 1024, 512 }.Sum(d => d * 512 - d * d);
        Assert.Equal(difference / 1e9, feedback - lateral, 9);
    }
}
