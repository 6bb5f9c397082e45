using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>Chooses the TorchSharp device from the GPU request and the fallback policy.</summary>
internal static class TrainingDevice
{
    /// <summary>
    /// CPU when <paramref name="gpuDeviceId"/> is null; otherwise CUDA device <paramref name="gpuDeviceId"/> when the
    /// CUDA backend is present and has that device, else the CPU when falling back is allowed.
    /// </summary>
    /// <exception cref="InvalidOperationException">A GPU was requested, none is usable and fallback is off.</exception>
    public static Device Resolve(int? gpuDeviceId, bool fallbackToCpu, Action<string> log)
    {
        if (gpuDeviceId is null)
            return CPU;
        if (gpuDeviceId < 0)
            throw new ArgumentOutOfRangeException(nameof(gpuDeviceId), gpuDeviceId, "A GPU index is 0 or more.");

        string? problem = null;
        try
        {
            if (!cuda.is_available())
                problem = "TorchSharp found no CUDA backend or device. Reference TorchSharp-cuda-linux (Linux) or " +
                    "TorchSharp-cuda-windows (Windows) instead of TorchSharp-cpu, with a matching NVIDIA driver.";
            else if (gpuDeviceId >= cuda.device_count())
                problem = $"GPU {gpuDeviceId} was requested but only {cuda.device_count()} CUDA device(s) exist.";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or NotSupportedException)
        {
            problem = "The CUDA build of libtorch could not be loaded (" + e.Message + ").";
        }

        if (problem is null)
            return new Device(DeviceType.CUDA, gpuDeviceId.Value);
        if (!fallbackToCpu)
            throw new InvalidOperationException(problem + " Set FallbackToCpu to train on the CPU instead.");

        log(problem + " Training on the CPU (FallbackToCpu is set).");
        return CPU;
    }
}
