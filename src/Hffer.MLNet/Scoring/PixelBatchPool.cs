using System.Collections.Concurrent;

namespace Hffer.MLNet.Scoring;

/// <summary>
/// The batch buffers of one scoring call: at most three (one filling, one waiting, one being scored), taken from
/// the scorer's spare buffers or made when needed, and handed back to the spares when the call ends, so repeated
/// calls reuse grown buffers instead of allocating. Renting, which only the filling thread does, blocks while all
/// three are in use.
/// </summary>
internal sealed class PixelBatchPool(ConcurrentBag<PixelBatch> spares, Func<PixelBatch> create) : IDisposable
{
    private const int Capacity = 3;

    private readonly BlockingCollection<PixelBatch> _returned = new();
    private int _taken;

    /// <summary>An empty batch buffer.</summary>
    public PixelBatch Rent(CancellationToken cancellationToken)
    {
        if (!_returned.TryTake(out var batch))
        {
            if (_taken < Capacity)
            {
                _taken++;
                batch = spares.TryTake(out var spare) ? spare : create();
            }
            else
            {
                batch = _returned.Take(cancellationToken);
            }
        }
        batch.Count = 0;
        batch.Unreadable.Clear();
        return batch;
    }

    /// <summary>A buffer whose batch has been scored.</summary>
    public void Return(PixelBatch batch) => _returned.Add(batch);

    /// <summary>Hands the call's returned buffers to the scorer's spares.</summary>
    public void Dispose()
    {
        while (_returned.TryTake(out var batch))
            spares.Add(batch);
        _returned.Dispose();
    }
}
