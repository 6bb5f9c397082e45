namespace Hffer.MLNet.Modeling;

/// <summary>Parameters and forward cost of one part of the network, for one image.</summary>
/// <param name="Part">
/// The part: ir50, ir adapter, dinov2 (or the ONNX prior's projection, the prior itself not counted), fusion, hffe
/// (after the stack), classifier.
/// </param>
/// <param name="Parameters">Parameter count of the built modules.</param>
/// <param name="ForwardFlops">Floating-point operations of one forward pass (a multiply-add counts as two).</param>
internal sealed record PartCost(string Part, long Parameters, double ForwardFlops);

/// <summary>
/// Counts parameters from the built modules and forward FLOPs per image from the architecture. FLOPs cover the
/// convolutions, linear layers and attention products (over 99 % of the work); normalizations, activations and
/// elementwise gates are left out.
/// </summary>
internal static class NetworkCost
{
    public static IReadOnlyList<PartCost> Measure(HfferNetwork network)
    {
        var a = network.Architecture;
        long Count(IEnumerable<TorchSharp.Modules.Parameter> parameters) => parameters.Sum(p => p.numel());
        long adapterParameters = Count(network.ir_conv.parameters()) + Count(network.ir_embed.parameters()) +
            (network.pos_embed_ir?.numel() ?? 0) + (network.pos_embed_do?.numel() ?? 0);

        var parts = new List<PartCost>
        {
            new("ir50", Count(network.ir50.parameters()), Ir50Flops(a)),
            new("ir adapter", adapterParameters, AdapterFlops(a)),
            network.dinov2 is { } dinov2
                ? new("dinov2", Count(dinov2.parameters()), Dinov2Flops(a))
                : new("prior projection", Count(network.prior_proj!.parameters()),
                    2.0 * network.PriorMap!.Channels * a.FusionDim * a.TokenGrid * a.TokenGrid),
            new("fusion", Count(network.fusion.parameters()), a.FusionModules * FusionModuleFlops(a)),
        };
        if (network.hffe is not null)
            parts.Add(new("hffe", Count(network.hffe.parameters()), HffeFlops(a)));
        parts.Add(new("classifier", Count(network.norm.parameters()) + Count(network.head.parameters()),
            2.0 * a.FusionDim * network.ClassCount));
        return parts;
    }

    private static double Conv(double inChannels, double outChannels, int kernel, double outputSide) =>
        2 * inChannels * outChannels * kernel * kernel * outputSide * outputSide;

    private static double Ir50Flops(HfferArchitecture a)
    {
        double side = a.Ir50InputSize;
        double flops = Conv(3, a.Ir50StemChannels, 3, side);
        int inChannels = a.Ir50StemChannels;
        for (int stage = 0; stage < a.Ir50StageUnits.Count; stage++)
        {
            int depth = a.Ir50StageChannels[stage];
            for (int unit = 0; unit < a.Ir50StageUnits[stage]; unit++)
            {
                int unitIn = unit == 0 ? inChannels : depth;
                double outputSide = unit == 0 ? side / 2 : side;
                flops += Conv(unitIn, depth, 3, side) + Conv(depth, depth, 3, outputSide);
                if (unitIn != depth)
                    flops += Conv(unitIn, depth, 1, outputSide);
                side = outputSide;
            }
            inChannels = depth;
        }
        return flops;
    }

    private static double AdapterFlops(HfferArchitecture a)
    {
        int channels = a.Ir50StageChannels[^1];
        return Conv(channels, channels, 3, a.TokenGrid) + Conv(channels, a.FusionDim, 1, a.TokenGrid);
    }

    private static double Dinov2Flops(HfferArchitecture a)
    {
        double dim = a.VitEmbedDim, patches = a.VitPatchGrid * a.VitPatchGrid, tokens = patches + 1;
        double patchEmbed = 2 * 3 * a.VitPatchSize * a.VitPatchSize * dim * patches;
        double linear = 2 * tokens * dim * (3 * dim + dim + 2 * a.VitMlpRatio * dim);
        double attention = 4 * tokens * tokens * dim;
        return patchEmbed + a.VitDepth * (linear + attention);
    }

    private static double FusionModuleFlops(HfferArchitecture a)
    {
        double dim = a.FusionDim, tokens = a.TokenGrid * a.TokenGrid;
        double crossAttention = 2 * tokens * dim * (dim + 2 * dim + dim) + 4 * tokens * tokens * dim;
        double mlp = 4 * tokens * dim * a.FusionMlpRatio * dim;
        double merge = a.HffePlacement == HffePlacement.EveryModule ? HffeFlops(a) : 0;
        return 2 * crossAttention + mlp + merge;
    }

    private static double HffeFlops(HfferArchitecture a)
    {
        double dim = a.FusionDim, grid = a.TokenGrid, reduced = dim / a.HffeSwmReduction;
        double hidden = Math.Max(8, a.FusionDim / a.CoordinateAttentionReduction);
        double spatialAttention = 2 * Conv(2, 1, 7, grid);
        double cbr3 = a.HffeUseCbr3 ? 2 * Conv(dim, dim, 3, grid) : 0;
        double weightMaps = 2 * (Conv(dim, reduced, 1, grid) + Conv(reduced, 1, 1, grid));
        double coordinate = 2 * dim * hidden * 2 * grid + 2 * (2 * hidden * dim * grid);
        double convolutions = Conv(2 * dim, dim, 1, grid) + 2 * Conv(dim, dim, 1, grid) + Conv(2 * dim, dim, 1, grid);
        return spatialAttention + cbr3 + weightMaps + coordinate + convolutions;
    }
}
