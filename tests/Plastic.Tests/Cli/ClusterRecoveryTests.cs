using System.Net;
using System.Net.Sockets;

namespace Plastic.Tests.Cli;

/// <summary>
/// `plastic run --cluster`: workers started by hand, two of them serving worker2. The one hosting block4-6
/// is killed with SIGKILL mid-run; the driver gives its layers to the live member of the same role (or waits,
/// up to --recover-timeout, for one to join), every node rewinds to the latest complete checkpoint, and the
/// run ends with the uninterrupted weights.
/// </summary>
[Collection("Console")]
[Trait(TestCategories.Category, TestCategories.Slow)]
public sealed class ClusterRecoveryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("plastic-cluster-recovery-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_lost_worker_s_layers_go_to_a_live_member_of_its_role_and_the_weights_are_the_uninterrupted_ones(bool spareJoinsAfterTheKill)
    {
        string[] common = ["run", "vgg6-cifar-small", "--synthetic", "--steps", "300", "--batch", "4", "--seed", "5"];
        string whole = Path.Combine(_root, "whole"), recovered = Path.Combine(_root, "recovered");
        Assert.Equal(0, CliTests.Run([.. common, "--out", whole]).code);

        // The member of a role that serves it is the first by address: the victim gets the port that sorts first.
        var ports = new[] { FreePort(), FreePort(), FreePort() };
        string seedPort = ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (victimPort, sparePort) = string.CompareOrdinal($"{ports[1]}", $"{ports[2]}") < 0 ? (ports[1], ports[2]) : (ports[2], ports[1]);
        string seed = $"127.0.0.1:{seedPort}";
        var nodes = new List<PlasticProcess>();
        try
        {
            nodes.Add(Node("worker1", seed, ports[0]));
            await JoinedAsync(nodes[0]);
            var victim = Node("worker2", seed, victimPort);
            nodes.Add(victim);
            if (!spareJoinsAfterTheKill) nodes.Add(Node("worker2", seed, sparePort));
            foreach (var node in nodes) await JoinedAsync(node);

            using var driver = PlasticProcess.Start([.. common, "--checkpoint-every", "25", "--cluster", seed, "--placement", "worker1=block1,block2,block3;worker2=block4,block5,block6",
                "--recover-timeout", "90", "--out", recovered]);
            try
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
                while (!driver.Output.Contains("step 90/300") && !driver.Process.HasExited && DateTime.UtcNow < deadline) await Task.Delay(50);
                Assert.False(driver.Process.HasExited, $"the run ended before the worker could be killed: {driver.Output}{driver.Errors}");
                victim.Process.Kill(); // SIGKILL: no goodbye
                if (spareJoinsAfterTheKill)
                {
                    while (!driver.Output.Contains("waiting up to") && !driver.Process.HasExited && DateTime.UtcNow < deadline) await Task.Delay(50);
                    nodes.Add(Node("worker2", seed, sparePort));
                }
                Assert.True(driver.Process.WaitForExit(TimeSpan.FromMinutes(4)), $"the run did not finish within 4 minutes of the kill: {driver.Output}{driver.Errors}");
            }
            finally
            {
                await driver.StopAsync();
            }
            Assert.True(driver.Process.ExitCode == 0, driver.Output + driver.Errors);
            Assert.Contains($"fault: Worker 'worker2' (akka.tcp://plastic@127.0.0.1:{victimPort}) hosting block4, block5, block6 became unreachable", driver.Output);
            Assert.Matches(@"recovered: a worker for 'worker2' took over its nodes [0-9.]+ s after the loss was seen", driver.Output);
            Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "weights.safetensors")), File.ReadAllBytes(Path.Combine(recovered, "weights.safetensors")));
            Assert.True(File.Exists(Path.Combine(recovered, "traces.worker2.jsonl")));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.StopAsync();
                node.Dispose();
            }
        }
    }

    private static PlasticProcess Node(string role, string seed, int port) =>
        PlasticProcess.Start("node", "--role", role, "--seed", seed, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--quiet");

    private static async Task JoinedAsync(PlasticProcess node)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!node.Output.Contains("joined through") && !node.Process.HasExited && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(node.Output.Contains("joined through"), $"a node did not join: {node.Output}{node.Errors}");
    }

    /// <summary>A port nobody listens on now (the system's pick for port 0, released at once).</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
