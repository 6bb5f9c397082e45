using System.Runtime.InteropServices;
using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>The TorchSharp DINOv2 branch of <paramref name="network"/> as a feature source on the training device.</summary>
internal sealed class Dinov2FeatureSource(HfferNetwork network, Device device) : IPriorFeatureSource
{
    public int FeatureLength { get; } =
        network.Architecture.TokenGrid * network.Architecture.TokenGrid * network.Architecture.VitEmbedDim;

    public void Compute(ImageSet images, int[] indices, bool mirrored, Span<float> destination)
    {
        using var scope = NewDisposeScope();
        var pixels = images.Pixels(indices, device);
        if (mirrored)
            pixels = pixels.flip(3);
        var tokens = network.PriorTokens(ImageNormalization.Apply(pixels)).cpu().contiguous();
        MemoryMarshal.Cast<byte, float>(tokens.bytes).CopyTo(destination);
    }
}
