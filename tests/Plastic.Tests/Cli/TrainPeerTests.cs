using System.Text.Json;
using Plastic.Tests.Support;
using Plastic.Topology;

namespace Plastic.Tests.Cli;

/// <summary>
/// The PyTorch training peer (tests/peers/train_peer.py) trains the same network as Plastic: same
/// parameter count, a finite loss for both losses. Its speed is measured by tests/peers/run.sh, not here.
/// </summary>
[Trait(TestCategories.Category, TestCategories.Slow)]
public sealed class TrainPeerTests
{
    [SkippableTheory]
    [InlineData("clapp++")]
    [InlineData("bp-infonce")]
    public void The_peer_trains_the_same_vgg6(string loss)
    {
        Skip.IfNot(PythonPeer.Has("torch"), "python3 (or $PLASTIC_PYTHON) with torch is not installed (an optional peer)");
        string script = Path.Combine(PythonPeer.RepositoryRoot(), "tests", "peers", "train_peer.py");
        var (exit, output) = PythonPeer.Run(script, "--loss", loss, "--steps", "2", "--warmup", "1", "--batch", "4", "--threads", "1");
        Assert.True(exit == 0, output);
        using var doc = JsonDocument.Parse(output);
        long plastic = NetworkValidator.Validate(Presets.ByName("vgg6-cifar-small")).Sum(s => s.Weights);
        Assert.Equal(plastic, doc.RootElement.GetProperty("parameters").GetInt64());
        Assert.True(double.IsFinite(doc.RootElement.GetProperty("last_loss").GetDouble()));
        Assert.True(doc.RootElement.GetProperty("images_per_s").GetDouble() > 0);
    }
}
