using Hffer.MLNet.Data;

namespace Hffer.MLNet.Training;

/// <summary>Computes the frozen prior's tokens [grid², width] of images, for <see cref="PriorFeatureCache"/>.</summary>
internal interface IPriorFeatureSource
{
    /// <summary>Floats per image (tokens x width).</summary>
    int FeatureLength { get; }

    /// <summary>Writes the tokens of <paramref name="indices"/>, one image after the other, to the destination.</summary>
    void Compute(ImageSet images, int[] indices, bool mirrored, Span<float> destination);
}
