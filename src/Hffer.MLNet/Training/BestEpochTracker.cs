using Hffer.MLNet.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>Keeps a copy of the weights of the epoch with the best validation accuracy.</summary>
internal sealed class BestEpochTracker(double minimumGain) : IDisposable
{
    private Dictionary<string, Tensor>? _weights;

    public int? Epoch { get; private set; }

    public double Accuracy { get; private set; } = double.NegativeInfinity;

    /// <summary>Records <paramref name="epoch"/> when it beats the best by more than the minimum gain.</summary>
    public bool Offer(int epoch, double accuracy, HfferNetwork network)
    {
        if (Epoch is not null && accuracy <= Accuracy + minimumGain)
            return false;

        DisposeWeights();
        using (no_grad())
        {
            _weights = network.state_dict().ToDictionary(e => e.Key, e => e.Value.detach().clone().DetachFromDisposeScope());
        }
        Epoch = epoch;
        Accuracy = accuracy;
        return true;
    }

    public int EpochsSinceBest(int epoch) => Epoch is { } best ? epoch - best : 0;

    public void Restore(HfferNetwork network)
    {
        if (_weights is null)
            return;
        using var noGrad = no_grad();
        foreach (var (key, value) in network.state_dict())
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
