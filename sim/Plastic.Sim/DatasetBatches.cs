using Plastic.Datasets.Pipeline;
using Plastic.Sim.Negatives;
using Plastic.Sim.Protocol;

namespace Plastic.Sim;

/// <summary>
/// Training batches from a data set through the two-view pipeline: step t is batch t mod B of epoch
/// t div B (B batches per epoch). Steps asked for in order (the input node) stream from the pipeline's
/// workers, which build ahead; any other step (the alignment monitor's) is built on demand, with the
/// same values. Negatives follow the run's sampling, keyed by the step. A streamed batch's views are for one reader.
/// </summary>
public sealed class DatasetBatches(TwoViewPipeline pipeline, ulong seed, NegativeSampling negatives = NegativeSampling.Next) : IBatchSource, IDisposable
{
    private readonly object _gate = new();
    private IEnumerator<TwoViewBatch>? _stream;
    private int _streamEpoch = -1;
    private long _nextStep;

    public TrainingBatch Batch(long step)
    {
        int perEpoch = pipeline.BatchesPerEpoch;
        int epoch = (int)(step / perEpoch), index = (int)(step % perEpoch);
        TwoViewBatch? batch = null;
        bool streamed = false;
        lock (_gate)
        {
            if (step == _nextStep)
            {
                if (_streamEpoch != epoch)
                {
                    _stream?.Dispose();
                    _stream = pipeline.Epoch(epoch).ToBlockingEnumerable().GetEnumerator();
                    _streamEpoch = epoch;
                }
                if (!_stream!.MoveNext()) throw new InvalidOperationException($"The pipeline ended before batch {index} of epoch {epoch}.");
                batch = _stream.Current;
                streamed = true;
                _nextStep++;
            }
        }
        // Out of order (the monitor): built here, outside the lock, so the input node does not wait for it.
        batch ??= pipeline.BatchAt(epoch, index);
        using (batch)
        {
            int n = batch.Dims[0] / 2;
            // The input node's batch is for one receiver, its first layer: a pooled array that layer gives back. The
            // monitor only reads its batch's values, and never gives an array back: it gets one of its own.
            var views = streamed ? TensorPayload.Lent(batch.Views, batch.Dims) : TensorPayload.Copy(batch.Views, batch.Dims);
            return new TrainingBatch(views, NegativeSampler.Draw(negatives, seed, step, n));
        }
    }

    public void Dispose()
    {
        lock (_gate) _stream?.Dispose();
    }
}
