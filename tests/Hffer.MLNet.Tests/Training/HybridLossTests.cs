using Hffer.MLNet.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Training;

public class HybridLossTests
{
    [Fact]
    public void PaperLossEqualsCrossEntropyWithLabelSmoothing0134()
    {
        torch.manual_seed(7);
        using var logits = randn(16, 7) * 3;
        using var targets = randint(0, 7, [16]);
        var loss = new HybridLoss(smoothing: 0.2, smoothedWeight: 0.67);

        using var hybrid = loss.Compute(logits, targets);
        using var reference = nn.functional.cross_entropy(logits, targets, label_smoothing: 0.134);

        Assert.Equal(0.134, loss.EquivalentSmoothing, 12);
        Assert.Equal(reference.item<float>(), hybrid.item<float>(), 5);
    }

    [Fact]
    public void LossMatchesTheFormulaWrittenOutForOneSample()
    {
        // logits (0, ln 2, ln 5) give probabilities (1/8, 2/8, 5/8); the true class is index 2.
        using var logits = tensor(new float[] { 0f, MathF.Log(2), MathF.Log(5) }).reshape(1, 3);
        using var targets = tensor(new long[] { 2 });
        double[] negativeLog = [Math.Log(8), Math.Log(4), Math.Log(8.0 / 5)];
        double smoothed = 0.8 * negativeLog[2] + 0.2 * negativeLog.Average();
        double expected = 0.67 * smoothed + 0.33 * negativeLog[2];

        using var value = new HybridLoss(0.2, 0.67).Compute(logits, targets);

        Assert.Equal(expected, value.item<float>(), 5);
    }

    [Fact]
    public void ClassWeightsWeightEachSampleByItsTrueClass()
    {
        using var logits = tensor(new float[] { 2f, 0f, 0f, 1f }).reshape(2, 2);
        using var targets = tensor(new long[] { 0, 1 });
        using var weights = tensor(new float[] { 3f, 1f });
        using var single = nn.functional.cross_entropy(logits, targets, reduction: nn.Reduction.None);
        float[] perSample = single.data<float>().ToArray();

        using var value = new HybridLoss(0, 1, weights).Compute(logits, targets);

        Assert.Equal((3 * perSample[0] + perSample[1]) / 4, value.item<float>(), 5);
    }
}
