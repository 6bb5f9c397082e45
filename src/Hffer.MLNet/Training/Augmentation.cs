using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>Training-time image augmentation; never applied when scoring.</summary>
internal static class Augmentation
{
    /// <summary>Mirrors each image of [n, 3, S, S] left-right with probability 1/2, drawn from <paramref name="random"/>.</summary>
    public static Tensor FlipHorizontally(Tensor pixels, Random random)
    {
        long count = pixels.shape[0];
        var chosen = new bool[count];
        for (int i = 0; i < count; i++)
            chosen[i] = random.NextDouble() < 0.5;

        using var mask = tensor(chosen, device: pixels.device).reshape(count, 1, 1, 1);
        using var flipped = pixels.flip(3);
        return where(mask, flipped, pixels);
    }
}
