using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Runtime;

namespace Hffer.MLNet.Onnx;

/// <summary>
/// Checks, before any training, that the scoring chain can be built on the device the user's <see cref="MLContext"/>
/// asks for. ML.NET's <c>ApplyOnnxModel</c> takes <c>MLContext.GpuDeviceId</c> and <c>FallbackToCpu</c> when it is
/// given no device; with the CPU ONNX Runtime package a GPU request then fails with an
/// <see cref="EntryPointNotFoundException"/> whatever the fallback says, which would lose a finished training.
/// </summary>
internal static class ScoringDevice
{
    /// <summary>
    /// The catalog to build the scoring chain with: <paramref name="catalog"/> when its context scores on the CPU or
    /// ONNX Runtime can use the requested GPU; a CPU-only context's when the GPU is unusable and fallback is on.
    /// </summary>
    /// <exception cref="InvalidOperationException">A GPU is requested, unusable, and fallback is off.</exception>
    public static TransformsCatalog Resolve(TransformsCatalog catalog, IHostEnvironment environment,
        Action<string> warn)
    {
        var (gpu, fallback) = ContextDevice(environment);
        if (gpu is not { } device || CudaProblem(device) is not { } problem)
            return catalog;

        if (!fallback)
            throw new InvalidOperationException(
                $"MLContext.GpuDeviceId is {device}, but ONNX Runtime cannot score on it: {problem} Reference " +
                "Microsoft.ML.OnnxRuntime.Gpu (Windows) or Microsoft.ML.OnnxRuntime.Gpu.Linux (Linux) instead of " +
                "Microsoft.ML.OnnxRuntime, or set MLContext.FallbackToCpu = true. Nothing was trained.");
        warn($"MLContext.GpuDeviceId is {device}, but ONNX Runtime cannot score on it: {problem} Scoring on the " +
            "CPU (MLContext.FallbackToCpu is set); loading the saved model into this context fails the same way.");
        return new MLContext().Transforms;
    }

    /// <summary>
    /// The context's GPU settings, which ML.NET keeps on its environment type (read by name, as the interface that
    /// declares them is internal); none when a future ML.NET renames them.
    /// </summary>
    private static (int? GpuDeviceId, bool FallbackToCpu) ContextDevice(IHostEnvironment environment)
    {
        object? Read(string name) => environment.GetType()
            .GetProperty(name, BindingFlags.Instance | BindingFlags.Public)?.GetValue(environment);
        object? gpu = Read("GpuDeviceId"), fallback = Read("FallbackToCpu");
        return (gpu as int?, fallback as bool? ?? false);
    }

    /// <summary>Why ONNX Runtime cannot use CUDA device <paramref name="device"/>; null when it can.</summary>
    private static string? CudaProblem(int device)
    {
        try
        {
            using var options = SessionOptions.MakeSessionOptionWithCudaProvider(device);
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return "the application's ONNX Runtime package has no CUDA execution provider.";
        }
        catch (OnnxRuntimeException e)
        {
            return e.Message;
        }
    }
}
