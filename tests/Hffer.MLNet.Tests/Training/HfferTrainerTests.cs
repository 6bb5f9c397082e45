using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Training;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Training;

public class HfferTrainerTests
{
    private static ImageSet RandomImages(int count, int classes, int size)
    {
        var random = new Random(4);
        var pixels = new byte[count * 3 * size * size];
        random.NextBytes(pixels);
        return new ImageSet(pixels, Enumerable.Range(0, count).Select(i => i % classes).ToArray(), size);
    }

    private static TrainingSettings Settings(double learningRate, bool balance = false) => new()
    {
        Architecture = HfferArchitecture.Small,
        ClassCount = 3,
        Epochs = 3,
        BatchSize = 4,
        LearningRate = learningRate,
        LearningRateDecay = 0.99,
        Seed = 2,
        Device = CPU,
        HorizontalFlip = true,
        ShiftFraction = 0.1,
        ErasingProbability = 0.5,
        WeightDecay = 0,
        LabelSmoothing = 0.2,
        SmoothedLossWeight = 0.67,
        BalanceClasses = balance,
    };

    [Fact]
    public void DivergingLossStopsTrainingWithTheEpochAndStepNamed()
    {
        var messages = new List<string>();
        var trainer = new HfferTrainer(Settings(learningRate: 1e30), messages.Add);

        var error = Assert.Throws<InvalidOperationException>(() =>
            trainer.Train(RandomImages(12, 3, 112), null, null, CancellationToken.None));

        Assert.Matches(@"The training loss became (NaN|-?∞|-?Infinity) at epoch \d+, step \d+", error.Message);
    }

    [Fact]
    public void BalancedClassWeightsAreInverseClassFrequencies()
    {
        float[] weights = HybridLoss.BalancedClassWeights([0, 0, 0, 1], classCount: 3);

        Assert.Equal(4f / 9, weights[0], 6);
        Assert.Equal(4f / 3, weights[1], 6);
        Assert.Equal(0f, weights[2]);
    }

    [Fact]
    public void BalancedTrainingRunsAndDiffersFromUnbalanced()
    {
        var images = RandomImages(10, 3, 112);
        using var plain = new HfferTrainer(Settings(3e-4) with { Epochs = 1 }, _ => { })
            .Train(images, null, null, CancellationToken.None);
        using var balanced = new HfferTrainer(Settings(3e-4, balance: true) with { Epochs = 1 }, _ => { })
            .Train(images, null, null, CancellationToken.None);

        Assert.False(plain.head.weight!.allclose(balanced.head.weight!, rtol: 0, atol: 0));
    }
}
