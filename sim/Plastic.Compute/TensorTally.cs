namespace Plastic.Compute;

/// <summary>
/// Live tensor bytes in total and by kind, and the kinds' bytes at the moment the total peaked (so that
/// the breakdown adds up to the peak). Every backend keeps one; a run may also give several backends one
/// shared tally (<see cref="ComputeBackend.AlsoCountIn"/>) to see what they hold at the same moment, which
/// the sum of their separate peaks overstates when they do not peak together. One lock: allocations are per
/// buffer, not per element.
/// </summary>
public sealed class TensorTally
{
    private readonly Lock _gate = new();
    private long _liveBytes, _peakBytes;
    private readonly long[] _liveByKind = new long[TensorKinds.All.Count];
    private long[] _peakByKind = new long[TensorKinds.All.Count];

    public long LiveBytes
    {
        get { lock (_gate) return _liveBytes; }
    }

    public long PeakBytes
    {
        get { lock (_gate) return _peakBytes; }
    }

    /// <summary>The bytes of each kind live now.</summary>
    public IReadOnlyDictionary<TensorKind, long> LiveBytesByKind
    {
        get { lock (_gate) return TensorKinds.All.ToDictionary(k => k, k => _liveByKind[(int)k]); }
    }

    /// <summary>The bytes of each kind live when <see cref="PeakBytes"/> was reached (they sum to it).</summary>
    public IReadOnlyDictionary<TensorKind, long> PeakBytesByKind
    {
        get { lock (_gate) return TensorKinds.All.ToDictionary(k => k, k => _peakByKind[(int)k]); }
    }

    internal void Add(long bytes, TensorKind kind)
    {
        lock (_gate)
        {
            _liveByKind[(int)kind] += bytes;
            _liveBytes += bytes;
            if (_liveBytes > _peakBytes)
            {
                _peakBytes = _liveBytes;
                _peakByKind = (long[])_liveByKind.Clone();
            }
        }
    }

    internal void Remove(long bytes, TensorKind kind)
    {
        lock (_gate)
        {
            _liveByKind[(int)kind] -= bytes;
            _liveBytes -= bytes;
        }
    }
}
