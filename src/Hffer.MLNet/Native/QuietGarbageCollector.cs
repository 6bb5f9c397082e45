using System.Runtime;

namespace Hffer.MLNet.Native;

/// <summary>
/// Runs a training step with the garbage collector held off. TorchSharp 0.107 turns doubles into temporary
/// <c>Scalar</c> objects (inside <c>Adam.step</c>, for example) and passes their native handles to libtorch without
/// keeping the managed objects alive; a collection during that call can finalize the Scalar while libtorch still
/// reads it. We saw this once as "Expected false to be true ... toFloat at c10/core/Scalar.h" in Adam's
/// <c>add_</c> after 27 good epochs. No collection, no finalization during the step.
/// </summary>
internal static class QuietGarbageCollector
{
    // Managed allocations of one step are small (tensor wrappers and scalars); this leaves ample room.
    private const long Budget = 64L * 1024 * 1024;

    public static T Run<T>(Func<T> step)
    {
        bool quiet = false;
        try
        {
            quiet = GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(Budget);
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidOperationException)
        {
            // The runtime cannot reserve the budget; run the step normally.
        }

        try
        {
            return step();
        }
        finally
        {
            // If the step outgrew the budget the runtime has already left the region.
            if (quiet && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
                GC.EndNoGCRegion();
        }
    }
}
