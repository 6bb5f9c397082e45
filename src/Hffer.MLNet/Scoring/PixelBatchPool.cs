using System.Collections.Concurrent;

namespace Hffer.MLNet.Scoring;

/// <summary>
/// At most three batch buffers, made only when needed (one batch of images needs one); renting, which only the
/// filling thread does, blocks while all three are in use: one filling, one waiting, one being scored.
/// </summary>
internal sealed class PixelBatchPool(Func<PixelBatch> create) : IDisposable
{
    private const int Capacity = 3;

    private readonly BlockingCollection<PixelBatch> _returned = new();
    private int _created;

    /// <summary>An empty batch buffer.</summary>
    public PixelBatch Rent(CancellationToken cancellationToken)
    {
        if (!_returned.TryTake(out var batch))
        {
            if (_created < Capacity)
            {
                _created++;
                return create();
            }
            batch = _returned.Take(cancellationToken);
        }
        batch.Count = 0;
        return batch;
    }

    public void Return(PixelBatch batch) => _returned.Add(batch);

    public void Dispose() => _returned.Dispose();
}
