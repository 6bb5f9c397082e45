using System.Collections.Concurrent;
using Hffer.MLNet.Modeling;

namespace Hffer.MLNet.Benchmarks;

/// <summary>Forward FLOPs per image of each preset (DINOv2 branch inside), counted once from a built network.</summary>
internal static class NetworkFlops
{
    private static readonly ConcurrentDictionary<HfferPreset, IReadOnlyList<PartCost>> Parts = new();

    /// <summary>The whole network's forward pass.</summary>
    public static double PerImage(HfferPreset preset) => Of(preset).Sum(p => p.ForwardFlops);

    /// <summary>The frozen DINOv2 branch's forward pass alone.</summary>
    public static double Frozen(HfferPreset preset) => Of(preset).Single(p => p.Part == "dinov2").ForwardFlops;

    private static IReadOnlyList<PartCost> Of(HfferPreset preset) => Parts.GetOrAdd(preset, p =>
    {
        Native.TorchSharpRuntime.EnsureLoaded();
        using var network = new HfferNetwork(
            p == HfferPreset.Paper ? HfferArchitecture.Paper : HfferArchitecture.Small, classCount: 7);
        return NetworkCost.Measure(network);
    });
}
