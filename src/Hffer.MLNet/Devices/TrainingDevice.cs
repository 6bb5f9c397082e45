using TorchSharp;

namespace Hffer.MLNet.Devices;

/// <summary>Whether TorchSharp can train on a CUDA device.</summary>
internal static class TrainingDevice
{
    /// <summary>The packages that bring libtorch's CUDA build, per operating system.</summary>
    public const string CudaPackages = "TorchSharp-cuda-linux (Linux) or TorchSharp-cuda-windows (Windows)";

    /// <summary>Why TorchSharp cannot use CUDA device <paramref name="device"/>; null when it can.</summary>
    public static string? Problem(int device)
    {
        try
        {
            if (!torch.cuda.is_available())
                return "TorchSharp cannot train on it: it found no CUDA build of libtorch or no CUDA device " +
                    $"(reference {CudaPackages} instead of TorchSharp-cpu, with a matching NVIDIA driver).";
            if (device >= torch.cuda.device_count())
                return $"TorchSharp cannot train on it: only {torch.cuda.device_count()} CUDA device(s) exist.";
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or NotSupportedException)
        {
            return $"TorchSharp cannot train on it: the CUDA build of libtorch could not be loaded ({e.Message}).";
        }
    }
}
