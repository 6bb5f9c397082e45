using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Training;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Training;

public class HfferTrainerTests
{
    [Fact]
    public void DivergingLossStopsTrainingWithTheEpochAndStepNamed()
    {
        var messages = new List<string>();
        var trainer = new HfferTrainer(TrainerInputs.Settings(learningRate: 1e30), messages.Add);

        var error = Assert.Throws<InvalidOperationException>(() =>
            trainer.Train(TrainerInputs.RandomImages(12, 3, 112), null, CancellationToken.None));

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
        var images = TrainerInputs.RandomImages(10, 3, 112);
        using var plain = new HfferTrainer(TrainerInputs.Settings(3e-4) with { Epochs = 1 }, _ => { })
            .Train(images, null, CancellationToken.None);
        using var balanced = new HfferTrainer(TrainerInputs.Settings(3e-4, balance: true) with { Epochs = 1 }, _ => { })
            .Train(images, null, CancellationToken.None);

        Assert.False(plain.head.weight!.allclose(balanced.head.weight!, rtol: 0, atol: 0));
    }
}
