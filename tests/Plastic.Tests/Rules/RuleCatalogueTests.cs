using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Rules.Catalogue;
using Plastic.Sim;
using Plastic.Topology;

namespace Plastic.Tests.Rules;

/// <summary>The rule catalogue: every entry is made for a layer of a real network, and bad names and options are refused with the valid ones.</summary>
public sealed class RuleCatalogueTests
{
    private static readonly NetworkSpec Vgg = Presets.Vgg6(16, 0.125, directFeedback: true);

    [Fact]
    public void Every_catalogue_rule_is_made_for_every_layer_of_a_feedback_network_and_says_what_it_needs()
    {
        var shapes = NetworkValidator.Validate(Vgg);
        using var backend = new CpuBackend(threads: 1);
        foreach (var entry in RuleCatalogue.Local)
            foreach (var shape in shapes)
            {
                using var rule = Simulation.DefaultRule(Vgg with { Rule = entry.Name }, shape, backend, new RandomStream(1, 7), new AdamWSettings(1e-3f));
                bool fed = Vgg.Feedback.Any(e => e.To == shape.Layer.Name);
                // Only the direct-feedback rules, below the top, wait for a top-down reference.
                Assert.Equal(fed && entry.Name is "clapp++dfb" or "clapp++both", rule.Needs.HasFlag(RuleSignals.TopDownReference));
            }
    }

    [Theory]
    [InlineData("clapp++/softplus/linear", "'softplus' and 'linear' both set the score function f")]
    [InlineData("clapp++/gap/patches", "'gap' and 'patches' both set the pooling")]
    [InlineData("clapp/either/both-terms", "both set the update")]
    [InlineData("clapp++dfb/fixed-b/identity-b", "both set B")]
    [InlineData("clapp++/b-l2=0.1/b-l2=0.2", "both set B's L2 penalty")]
    [InlineData("scff/theta=2/th1=1", "theta sets both th1 and th2")]
    [InlineData("ff/lambda=1/lambda=2", "give each once")]
    public void Contradictory_options_are_refused_naming_both(string rule, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => RuleCatalogue.Check(rule, "block1"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("Layer 'block1': ", e.Message);
    }

    [Fact]
    public void Unknown_rules_and_options_are_refused_with_the_valid_list()
    {
        var unknown = Assert.Throws<ArgumentException>(() => RuleCatalogue.Check("clap++", "fc1"));
        Assert.Contains("rule 'clap++' is not in the catalogue", unknown.Message);
        Assert.All(RuleCatalogue.Local, entry => Assert.Contains(entry.Name, unknown.Message));
        var option = Assert.Throws<ArgumentException>(() => RuleCatalogue.Check("clapp++/tanh", "fc1"));
        Assert.Contains("unknown option 'tanh'", option.Message);
        Assert.Contains("softplus", option.Message);
        Assert.Contains("backprop baseline", Assert.Throws<ArgumentException>(() => RuleCatalogue.Check("bp-infonce", "fc1")).Message);
        Assert.Contains("'grid' is an option of the backprop baselines", Assert.Throws<ArgumentException>(() => RuleCatalogue.Check("clapp++/grid", "fc1")).Message);
    }

    [Fact]
    public async Task A_run_with_contradictory_options_is_refused_before_it_starts()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Simulation.RunAsync(Presets.Mlp(6, [4, 4], "clapp++/softplus/linear"), new RunOptions(1, BatchSize: 2), () => new CpuBackend(threads: 1)));
        Assert.Contains("both set the score function f", e.Message);
    }
}
