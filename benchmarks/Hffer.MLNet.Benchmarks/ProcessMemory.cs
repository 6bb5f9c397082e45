using System.Runtime.InteropServices;

namespace Hffer.MLNet.Benchmarks;

/// <summary>
/// Gives memory back between benchmark cases. All cases share one process (in-process toolchain), and a paper-preset
/// case holds several gigabytes of weights in TorchSharp and ONNX Runtime; without this, freed native memory stays
/// in glibc's arenas, the next case's peak includes it, and a full run exhausts a 23 GB machine.
/// </summary>
internal static class ProcessMemory
{
    public static void Release()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        if (OperatingSystem.IsLinux())
            TrimNativeHeap(0);
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int TrimNativeHeap(nuint pad);
}
