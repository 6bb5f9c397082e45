using System.Runtime.InteropServices;
using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Priors;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>
/// An ONNX prior as a feature source: ONNX Runtime computes each image's map (or token sequence, made a map) from the
/// prior's own copy of the image, average-pooled to the token grid as <see cref="Onnx.HfferOnnxExporter"/>'s scoring
/// graph pools it.
/// </summary>
internal sealed class OnnxFeatureSource(OnnxPrior prior, int grid) : IPriorFeatureSource
{
    public int FeatureLength { get; } = grid * grid * prior.MapShape.Channels;

    /// <exception cref="InvalidDataException">The prior gave a NaN or infinite value.</exception>
    public void Compute(ImageSet images, int[] indices, bool mirrored, Span<float> destination)
    {
        var shape = prior.MapShape;
        for (int i = 0; i < indices.Length; i++)
        {
            using var scope = NewDisposeScope();
            float[] values = prior.Map(images.PriorImage(indices[i]), mirrored);
            if (!values.All(float.IsFinite))
                throw new InvalidDataException(
                    $"The ONNX prior {prior.Description.ModelPath} gave NaN or infinite values in " +
                    $"'{prior.Description.FeatureMapName}' for image {indices[i]} of the set being cached" +
                    (mirrored ? " (mirrored)" : "") + ". Check its PixelScale, Mean and StandardDeviation, and the model.");
            var map = shape.IsTokenSequence
                ? Tokens.ToMap(tensor(values, [1, shape.TokenCount, shape.Channels])
                    .narrow(1, shape.LeadingTokens!.Value, shape.Height * shape.Width), shape.Height)
                : tensor(values, [1, shape.Channels, shape.Height, shape.Width]);
            var pooled = nn.functional.adaptive_avg_pool2d(map, [grid, grid]);
            var tokens = Tokens.FromMap(pooled).contiguous();
            MemoryMarshal.Cast<byte, float>(tokens.bytes).CopyTo(destination.Slice(i * FeatureLength, FeatureLength));
        }
    }
}
