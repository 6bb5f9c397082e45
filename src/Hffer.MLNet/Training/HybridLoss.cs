using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>
/// HFFER's loss (section 3.4, resolution A6): w * LSCE(delta) + (1 - w) * CE, with POSTER's label-smoothing cross
/// entropy LSCE = (1 - delta)(-log q_y) + delta * mean_j(-log q_j), averaged over the batch. With the paper's
/// w = 0.67 and delta = 0.2 this equals cross entropy with label smoothing 0.134.
/// </summary>
internal sealed class HybridLoss(double smoothing, double smoothedWeight, Tensor? classWeights = null)
{
    public double Smoothing { get; } = smoothing;

    public double SmoothedWeight { get; } = smoothedWeight;

    /// <summary>The single label-smoothing value the loss is equivalent to.</summary>
    public double EquivalentSmoothing => Smoothing * SmoothedWeight;

    /// <summary>
    /// Inverse-frequency class weights N / (C x n_c) for <paramref name="labels"/>; a class without samples gets 0.
    /// </summary>
    public static float[] BalancedClassWeights(IReadOnlyList<int> labels, int classCount)
    {
        var counts = new int[classCount];
        foreach (int label in labels)
            counts[label]++;
        return counts.Select(n => n == 0 ? 0f : (float)labels.Count / (classCount * n)).ToArray();
    }

    public Tensor Compute(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var logProbabilities = logits.log_softmax(1);
        var trueClass = -logProbabilities.gather(1, targets.unsqueeze(1)).squeeze(1);
        var uniform = -logProbabilities.mean([1]);

        var smoothed = (1 - Smoothing) * trueClass + Smoothing * uniform;
        var perSample = SmoothedWeight * smoothed + (1 - SmoothedWeight) * trueClass;
        if (classWeights is null)
            return perSample.mean().MoveToOuterDisposeScope();

        var sampleWeights = classWeights.index_select(0, targets);
        return ((perSample * sampleWeights).sum() / sampleWeights.sum()).MoveToOuterDisposeScope();
    }
}
