using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Hffer.MLNet.Devices;

/// <summary>
/// The GPU a user asked for and whether the CPU may stand in for it, taken from <see cref="HfferOptions"/> where set
/// and from the <see cref="MLContext"/> otherwise, as ML.NET's own components do.
/// </summary>
/// <param name="GpuDeviceId">CUDA device index; null for the CPU.</param>
/// <param name="FallbackToCpu">Whether an unusable GPU falls back to the CPU instead of failing.</param>
/// <param name="Source">The setting the GPU index came from, as users write it in code (for messages).</param>
internal sealed record DeviceRequest(int? GpuDeviceId, bool FallbackToCpu, string Source)
{
    /// <summary>The CPU, asked for by nobody.</summary>
    public static DeviceRequest Cpu { get; } = new(null, false, "no GPU setting");

    /// <summary>The per-estimator settings where given, else the context's.</summary>
    public static DeviceRequest Of(int? gpuDeviceId, bool? fallbackToCpu, IHostEnvironment environment,
        string optionsName)
    {
        var (contextGpu, contextFallback) = ContextSettings(environment);
        return gpuDeviceId is { } own
            ? new(own, fallbackToCpu ?? contextFallback, $"{optionsName}.GpuDeviceId")
            : new(contextGpu, fallbackToCpu ?? contextFallback, "MLContext.GpuDeviceId");
    }

    /// <summary>Whether the context itself asks for a GPU (which ML.NET's ONNX components then use by default).</summary>
    public static bool ContextRequestsGpu(IHostEnvironment environment) =>
        ContextSettings(environment).GpuDeviceId is not null;

    /// <summary>
    /// The context's GPU settings, which ML.NET keeps on its environment type (read by name, as the interface that
    /// declares them is internal); none when a future ML.NET renames them.
    /// </summary>
    private static (int? GpuDeviceId, bool FallbackToCpu) ContextSettings(IHostEnvironment environment)
    {
        object? Read(string name) => environment.GetType()
            .GetProperty(name, BindingFlags.Instance | BindingFlags.Public)?.GetValue(environment);
        return (Read("GpuDeviceId") as int?, Read("FallbackToCpu") as bool? ?? false);
    }
}
