using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Training;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Training;

/// <summary>Random images and small-preset settings for tests of the training loop itself.</summary>
internal static class TrainerInputs
{
    public static ImageSet RandomImages(int count, int classes, int size = 112, int seed = 4)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 3 * size * size];
        random.NextBytes(pixels);
        return new ImageSet(pixels, Enumerable.Range(0, count).Select(i => i % classes).ToArray(), size);
    }

    public static TrainingSettings Settings(double learningRate = 3e-4, bool balance = false) => new()
    {
        Architecture = HfferArchitecture.Small,
        ClassCount = 3,
        Epochs = 3,
        BatchSize = 4,
        LearningRate = learningRate,
        LearningRateDecay = 0.9,
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

    /// <summary>Every state-dict tensor of <paramref name="network"/> as raw bytes, by key.</summary>
    public static Dictionary<string, byte[]> StateBytes(HfferNetwork network) =>
        network.state_dict().ToDictionary(e => e.Key, e => e.Value.detach().cpu().contiguous().bytes.ToArray());

    /// <summary>Keys whose tensors differ in any bit.</summary>
    public static string[] DifferingKeys(HfferNetwork first, HfferNetwork second)
    {
        var a = StateBytes(first);
        var b = StateBytes(second);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        return a.Keys.Where(key => !a[key].AsSpan().SequenceEqual(b[key])).ToArray();
    }
}
