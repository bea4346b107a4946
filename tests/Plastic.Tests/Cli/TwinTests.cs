using Plastic.Cli;
using Plastic.Tests.Support;
using Xunit.Abstractions;

namespace Plastic.Tests.Cli;

/// <summary>
/// `plastic step` against the independent PyTorch twin (tests/peers/reference_twin.py, written from
/// PAPER.md and RULES-FF-SCFF-CLAPP.md only): every rule and option, on the 1/8-width VGG-6 and on a
/// small conv net with feedback from a middle layer, losses to 1e-5 relative and gradients to cosine
/// 1 - 1e-5 and norm ratio 1e-4. Skips where python3 (or $PLASTIC_PYTHON) lacks torch.
/// </summary>
[Trait(TestCategories.Category, TestCategories.Slow)]
public sealed class TwinTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Every_rule_matches_the_independent_twin()
    {
        Skip.IfNot(PythonPeer.Has("torch") && PythonPeer.Has("numpy"), "python3 (or $PLASTIC_PYTHON) with torch and numpy is not installed (the twin is optional)");
        string script = Path.Combine(PythonPeer.RepositoryRoot(), "tests", "peers", "compare_twin.py");
        string plastic = Path.Combine(Path.GetDirectoryName(typeof(PlasticCommand).Assembly.Location)!, OperatingSystem.IsWindows() ? "plastic.exe" : "plastic");
        var (exit, text) = PythonPeer.Run(TimeSpan.FromMinutes(20), script, "--quick", "--plastic", plastic);
        output.WriteLine(text);
        Assert.True(exit == 0, text);
        Assert.Contains("overall: 38 cases, 0 failed", text);
    }
}
