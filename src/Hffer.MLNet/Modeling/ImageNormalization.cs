using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// The input convention of both branches: RGB scaled to [0, 1], then ImageNet mean and standard deviation per
/// channel (DINOv2's and POSTER's preprocessing). Pixels arrive as 0-255 values in planar RGB order.
/// </summary>
internal static class ImageNormalization
{
    public static readonly float[] Mean = [0.485f, 0.456f, 0.406f];

    public static readonly float[] StandardDeviation = [0.229f, 0.224f, 0.225f];

    public const float PixelScale = 255f;

    /// <summary>[B, 3, S, S] of 0-255 values to the normalized network input, computed as the ONNX graph does.</summary>
    public static Tensor Apply(Tensor pixels)
    {
        using var mean = tensor(Mean, device: pixels.device).reshape(1, 3, 1, 1);
        using var std = tensor(StandardDeviation, device: pixels.device).reshape(1, 3, 1, 1);
        using var scaled = pixels / PixelScale;
        using var centered = scaled - mean;
        return centered / std;
    }
}
