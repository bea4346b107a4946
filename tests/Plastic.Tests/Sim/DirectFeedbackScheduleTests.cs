using Plastic.Compute;
using Plastic.Compute.Cpu;
using Plastic.Rules;
using Plastic.Sim;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Sim;

/// <summary>
/// The schedule of direct feedback: a layer whose rule needs a top-down reference waits for the
/// reference of its own step (or, with a staleness bound, of a recent one), and nothing deadlocks.
/// The rule here is a stand-in (the DFB rules come with the rules issue): its update is a fixed
/// function of the reference, so that any mix-up of steps changes the weights.
/// </summary>
public sealed class DirectFeedbackScheduleTests
{
    private sealed class UsesReference : ILocalRule
    {
        public string Name => "uses-reference";
        public RuleSignals Needs => RuleSignals.TopDownReference;

        public double ComputeUpdate(LocalView view, Tensor gradWeight, Tensor? gradBias)
        {
            var b = view.Backend;
            double mean = b.Sum(view.TopDown!) / view.TopDown!.Length;
            b.Fill(gradWeight, (float)mean);
            if (gradBias is not null) b.Fill(gradBias, (float)-mean);
            return mean;
        }

        public void Dispose() { }
    }

    private static readonly NetworkSpec Net = Presets.Mlp(10, [8, 8, 8, 6], "uses-reference") with
    {
        Feedback = [new EdgeSpec("fc4", "fc1"), new EdgeSpec("fc4", "fc2"), new EdgeSpec("fc4", "fc3")],
    };

    private static ILocalRule Rule(NetworkSpec spec, LayerShape shape, IComputeBackend backend, RandomStream init, AdamWSettings optimizer) =>
        shape.Layer.Name == "fc4" ? Simulation.DefaultRule(spec with { Feedback = [] }, shape, backend, init, optimizer) : new UsesReference();

    private static Task<RunResult> Run(int maxInFlight, int staleness = 0) =>
        Simulation.RunAsync(Net with { Rule = "clapp++" }, new RunOptions(8, BatchSize: 4) { Schedule = new(MaxInFlight: maxInFlight, Staleness: staleness), Optimizer = new(1e-2f) },
            () => new CpuBackend(threads: 1), rules: Rule);

    [Fact]
    public async Task Each_layer_uses_the_reference_of_its_own_step_and_pipelining_changes_nothing()
    {
        var sequential = await Run(maxInFlight: 1);
        var pipelined = await Run(maxInFlight: 4);
        foreach (var layer in new[] { "fc1", "fc2", "fc3" })
        {
            Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i), pipelined.ReferenceSteps[layer]);
            Tolerance.AssertBitIdentical(sequential.Parameters[layer].Weight.AsSpan(), pipelined.Parameters[layer].Weight.AsSpan(), layer);
        }
        Assert.All(pipelined.ReferenceSteps["fc4"], s => Assert.Equal(-1, s)); // the top layer's own rule is lateral
    }

    [Fact]
    public async Task A_rule_asking_for_a_reference_its_layer_is_not_wired_for_is_refused_before_the_run()
    {
        // fc3 loses its feedback edge but its rule still asks for a top-down reference: non-local information.
        var spec = Net with { Rule = "clapp++", Feedback = [new EdgeSpec("fc4", "fc1"), new EdgeSpec("fc4", "fc2")] };
        var e = await Assert.ThrowsAsync<Plastic.Sim.Protocol.LocalityViolationException>(() =>
            Simulation.RunAsync(spec, new RunOptions(2, BatchSize: 4), () => new CpuBackend(threads: 1), rules: Rule));
        Assert.Contains("Layer 'fc3': rule 'uses-reference' needs a top-down reference", e.Message);
    }

    [Fact]
    public async Task With_a_staleness_bound_a_layer_may_use_a_recent_reference_but_never_a_future_or_too_old_one()
    {
        var result = await Run(maxInFlight: 4, staleness: 2);
        foreach (var layer in new[] { "fc1", "fc2", "fc3" })
            for (int step = 0; step < 8; step++)
                Assert.InRange(result.ReferenceSteps[layer][step], step - 2, step);
    }

    [Fact]
    public async Task A_reference_kept_for_several_steps_is_read_from_its_one_use_payload_once()
    {
        // One feedback edge: the reference goes to one receiver in this process, as a pooled array that its
        // first copy gives back. Under a staleness bound a layer may use one reference for several steps.
        var single = Presets.Mlp(10, [8, 8, 8, 6], "uses-reference") with { Feedback = [new EdgeSpec("fc4", "fc1")] };
        static ILocalRule SingleRule(NetworkSpec spec, LayerShape shape, IComputeBackend backend, RandomStream init, AdamWSettings optimizer) =>
            shape.Layer.Name == "fc1" ? new UsesReference() : Simulation.DefaultRule(spec with { Feedback = [] }, shape, backend, init, optimizer);
        int reused = 0;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var result = await Simulation.RunAsync(single with { Rule = "clapp++" }, new RunOptions(12, BatchSize: 4) { Schedule = new(MaxInFlight: 4, Staleness: 2), Optimizer = new(1e-2f) },
                () => new CpuBackend(threads: 1), rules: SingleRule);
            var used = result.ReferenceSteps["fc1"];
            for (int step = 0; step < used.Length; step++) Assert.InRange(used[step], step - 2, step);
            reused += used.Zip(used.Skip(1)).Count(p => p.First == p.Second);
        }
        Assert.True(reused > 0, "no reference served two steps in 5 runs: the case this test is about never happened");
    }
}
