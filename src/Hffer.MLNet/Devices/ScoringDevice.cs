using Microsoft.ML.OnnxRuntime;

namespace Hffer.MLNet.Devices;

/// <summary>
/// Whether ONNX Runtime can score on a CUDA device. With the CPU ONNX Runtime package, asking ML.NET's
/// <c>ApplyOnnxModel</c> for a GPU fails with an <see cref="EntryPointNotFoundException"/> whatever
/// <c>FallbackToCpu</c> says, so the question is asked here first, before any training.
/// </summary>
internal static class ScoringDevice
{
    /// <summary>The packages that bring ONNX Runtime's CUDA execution provider, per operating system.</summary>
    public const string CudaPackages =
        "Microsoft.ML.OnnxRuntime.Gpu.Linux (Linux) or Microsoft.ML.OnnxRuntime.Gpu (Windows)";

    /// <summary>Why ONNX Runtime cannot use CUDA device <paramref name="device"/>; null when it can.</summary>
    public static string? Problem(int device)
    {
        try
        {
            using var options = SessionOptions.MakeSessionOptionWithCudaProvider(device);
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return "ONNX Runtime cannot score on it: the application's ONNX Runtime package has no CUDA execution " +
                $"provider (reference {CudaPackages} instead of Microsoft.ML.OnnxRuntime).";
        }
        catch (OnnxRuntimeException e)
        {
            return $"ONNX Runtime cannot score on it: {e.Message}";
        }
    }
}
