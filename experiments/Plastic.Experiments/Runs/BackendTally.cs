using Plastic.Compute;

namespace Plastic.Experiments.Runs;

/// <summary>
/// The backend factory of a run that keeps what it made, to read the tensor memory of the compute nodes
/// afterwards. The compute nodes make theirs first (Simulation.ComputeNodes), instruments after them.
/// </summary>
public sealed class BackendTally(string? device, int? threads, int computeNodes = int.MaxValue)
{
    private readonly List<IComputeBackend> _made = [];
    private readonly TensorTally _together = new();

    public IComputeBackend Make()
    {
        var backend = BackendCatalog.Create(device, threads);
        lock (_made)
        {
            if (_made.Count < computeNodes) backend.AlsoCountIn(_together);
            _made.Add(backend);
        }
        return backend;
    }

    /// <summary>
    /// The most tensor memory the first <c>computeNodes</c> backends held at one moment, in MB: at most
    /// <see cref="PeakMegabytes"/>, less where the nodes do not peak together (a local layer that frees its
    /// activations after its update, under a schedule that runs the layers one after another).
    /// </summary>
    public double SimultaneousPeakMegabytes => _together.PeakBytes / 1e6;

    /// <summary><see cref="SimultaneousPeakMegabytes"/> by kind: what each kind held at that moment.</summary>
    public IReadOnlyDictionary<Plastic.Compute.TensorKind, double> SimultaneousPeakMegabytesByKind =>
        _together.PeakBytesByKind.ToDictionary(kv => kv.Key, kv => kv.Value / 1e6);

    /// <summary>The name of the backends made (they all come from the same request); null before the first.</summary>
    public string? Name
    {
        get { lock (_made) return _made.Count > 0 ? _made[0].Name : null; }
    }

    /// <summary>What the backends run on, in words (the first one's: they all come from the same request); null before the first.</summary>
    public string? DeviceDescription
    {
        get { lock (_made) return _made.Count > 0 ? _made[0].DeviceDescription : null; }
    }

    /// <summary>The most memory the device's pool of reused buffers held (ILGPU), in MB; null where the backends do not pool.</summary>
    public double? DevicePoolPeakMegabytes
    {
        get { lock (_made) return _made.Select(b => b.DevicePoolPeakBytes).Max() / 1e6; }
    }

    /// <summary>Sum over the first <paramref name="nodes"/> backends of each one's peak of live tensors, in MB.</summary>
    public double PeakMegabytes(int nodes) => Sum(nodes, b => b.PeakTensorBytes);

    /// <summary>
    /// <see cref="PeakMegabytes"/> by kind of tensor: for each node, what each kind held when that node
    /// peaked, summed over the nodes (so the kinds add up to the peak).
    /// </summary>
    public IReadOnlyDictionary<Plastic.Compute.TensorKind, double> PeakMegabytesByKind(int nodes) =>
        Plastic.Compute.TensorKinds.All.ToDictionary(k => k, k => Sum(nodes, b => b.PeakTensorBytesByKind[k]));

    /// <summary>Tensors of the first <paramref name="nodes"/> backends still live, in MB (0 once their actors have stopped).</summary>
    public double LiveMegabytes(int nodes) => Sum(nodes, b => b.LiveTensorBytes);

    private double Sum(int nodes, Func<IComputeBackend, long> bytes)
    {
        lock (_made) return _made.Take(nodes).Sum(bytes) / 1e6;
    }
}
