using Hffer.MLNet.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>
/// Training-time image augmentation on 0-255 pixel batches [n, 3, S, S]; never applied when scoring. Every random
/// choice comes from the trainer's seeded <see cref="Random"/>, so runs repeat exactly.
/// </summary>
internal static class Augmentation
{
    /// <summary>Draws, for each of <paramref name="count"/> images, whether it is mirrored (probability 1/2).</summary>
    public static bool[] ChooseMirrors(int count, Random random)
    {
        var chosen = new bool[count];
        for (int i = 0; i < count; i++)
            chosen[i] = random.NextDouble() < 0.5;
        return chosen;
    }

    /// <summary>Mirrors left-right each image of <paramref name="pixels"/> whose <paramref name="chosen"/> flag is set.</summary>
    public static Tensor Mirror(Tensor pixels, bool[] chosen)
    {
        using var mask = tensor(chosen, device: pixels.device).reshape(chosen.Length, 1, 1, 1);
        using var flipped = pixels.flip(3);
        return where(mask, flipped, pixels);
    }

    /// <summary>
    /// Moves each image by a random offset of up to <paramref name="maxFraction"/> of its side in both directions,
    /// filling the uncovered border by edge replication.
    /// </summary>
    public static Tensor Shift(Tensor pixels, double maxFraction, Random random)
    {
        long count = pixels.shape[0], size = pixels.shape[3];
        int pad = (int)Math.Round(size * maxFraction);
        if (pad == 0)
            return pixels.alias();

        using var scope = NewDisposeScope();
        var padded = nn.functional.pad(pixels, [pad, pad, pad, pad], PaddingModes.Replicate);
        var shifted = new Tensor[count];
        for (int i = 0; i < count; i++)
        {
            int top = random.Next(2 * pad + 1), left = random.Next(2 * pad + 1);
            shifted[i] = padded[i, .., top..(int)(top + size), left..(int)(left + size)];
        }
        return stack(shifted).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Random erasing as POSTER and POSTER++ use it (torchvision defaults with scale (0.02, 0.1)): with probability
    /// <paramref name="probability"/> a rectangle of 2-10 % of the area, aspect ratio 0.3-3.3 (log-uniform), is set
    /// to the ImageNet mean colour, which is 0 after normalization as in torchvision's value 0.
    /// </summary>
    public static Tensor Erase(Tensor pixels, double probability, Random random)
    {
        long count = pixels.shape[0], size = pixels.shape[3];
        var result = pixels.clone();
        using var fill = tensor(ImageNormalization.Mean.Select(m => m * ImageNormalization.PixelScale).ToArray(),
            device: pixels.device).reshape(3, 1, 1);
        for (int i = 0; i < count; i++)
        {
            if (random.NextDouble() >= probability)
                continue;

            // torchvision tries up to ten rectangles and keeps the image unchanged if none fits.
            for (int attempt = 0; attempt < 10; attempt++)
            {
                double area = size * size * (0.02 + random.NextDouble() * 0.08);
                double aspect = Math.Exp(Math.Log(0.3) + random.NextDouble() * (Math.Log(3.3) - Math.Log(0.3)));
                int height = (int)Math.Round(Math.Sqrt(area * aspect)), width = (int)Math.Round(Math.Sqrt(area / aspect));
                if (height >= size || width >= size || height < 1 || width < 1)
                    continue;

                int top = random.Next((int)size - height + 1), left = random.Next((int)size - width + 1);
                using var region = result[i, .., top..(top + height), left..(left + width)];
                region.copy_(fill.expand(3, height, width));
                break;
            }
        }
        return result;
    }
}
