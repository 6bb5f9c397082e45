using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;

namespace Hffer.MLNet.Native;

/// <summary>
/// Loads TorchSharp's native backend once and, when that fails, replaces TorchSharp's generic message with the
/// likely cause and its fix.
/// </summary>
internal static class TorchSharpRuntime
{
    private const string RequiredGlibcxx = "GLIBCXX_3.4.32";

    private static readonly Lazy<Exception?> s_loadFailure = new(TryLoad);

    /// <exception cref="InvalidOperationException">The native backend cannot be loaded; the message says why.</exception>
    public static void EnsureLoaded()
    {
        if (s_loadFailure.Value is { } failure)
            throw new InvalidOperationException(Explain(failure), failure);
    }

    private static Exception? TryLoad()
    {
        try
        {
            // Any tensor operation runs TorchSharp's static initialiser, which loads the native libraries.
            using var probe = torch.zeros(1);
            return null;
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or DllNotFoundException)
        {
            return e;
        }
    }

    private static string Explain(Exception failure)
    {
        var message = new StringBuilder("TorchSharp's native library could not be loaded, so HFFER cannot train. ");
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) && !SystemLibstdcxxProvides(RequiredGlibcxx))
        {
            message.Append($"This system's libstdc++ lacks {RequiredGlibcxx}, which TorchSharp's libLibTorchSharp.so ")
                .Append("requires (Debian 12 and similar). Hffer.MLNet's build step patches the copy in the build ")
                .Append("output: make sure the application references the Hffer.MLNet package (not only its DLL), ")
                .Append("that HfferPatchLibTorchSharp is not set to false, and rebuild. ");
        }
        else
        {
            message.Append("Check that the application references a native TorchSharp package (TorchSharp-cpu, ")
                .Append("TorchSharp-cuda-linux or TorchSharp-cuda-windows) of the same version as TorchSharp. ");
        }
        return message.Append("See docs/troubleshooting.md. TorchSharp said: ")
            .Append((failure.InnerException ?? failure).Message.Split('\n')[0]).ToString();
    }

    private static bool SystemLibstdcxxProvides(string version)
    {
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        string[] candidates =
        [
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        ];
        return candidates.Where(File.Exists).Any(path => File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0);
    }
}
