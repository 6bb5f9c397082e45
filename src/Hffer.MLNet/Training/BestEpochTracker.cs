using Hffer.MLNet.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>
/// Keeps a copy of the trainable weights and buffers of the epoch with the best validation accuracy (the frozen
/// branch never changes, so it is not copied).
/// </summary>
internal sealed class BestEpochTracker(double minimumGain) : IDisposable
{
    private Dictionary<string, Tensor>? _weights;

    public int? Epoch { get; private set; }

    public double Accuracy { get; private set; } = double.NegativeInfinity;

    /// <summary>The kept weights by state-dict key, or null before the first validated epoch.</summary>
    public IReadOnlyDictionary<string, Tensor>? Weights => _weights;

    /// <summary>Records <paramref name="epoch"/> when it beats the best by more than the minimum gain.</summary>
    public bool Offer(int epoch, double accuracy, HfferNetwork network)
    {
        if (Epoch is not null && accuracy <= Accuracy + minimumGain)
            return false;

        using (no_grad())
        {
            Keep(epoch, accuracy, network.TrainableState()
                .ToDictionary(e => e.Key, e => e.Value.detach().clone().DetachFromDisposeScope()));
        }
        return true;
    }

    /// <summary>Takes over <paramref name="weights"/> as the best epoch's, as a checkpoint recorded them.</summary>
    public void Keep(int epoch, double accuracy, Dictionary<string, Tensor> weights)
    {
        DisposeWeights();
        _weights = weights;
        Epoch = epoch;
        Accuracy = accuracy;
    }

    public int EpochsSinceBest(int epoch) => Epoch is { } best ? epoch - best : 0;

    public void Restore(HfferNetwork network)
    {
        if (_weights is null)
            return;
        using var noGrad = no_grad();
        foreach (var (key, value) in network.TrainableState())
            value.copy_(_weights[key]);
    }

    public void Dispose() => DisposeWeights();

    private void DisposeWeights()
    {
        foreach (var tensor in _weights?.Values ?? Enumerable.Empty<Tensor>())
            tensor.Dispose();
        _weights = null;
    }
}
