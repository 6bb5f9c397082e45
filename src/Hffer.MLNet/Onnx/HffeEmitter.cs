using Hffer.MLNet.Modeling;
using TorchSharp.Modules;

namespace Hffer.MLNet.Onnx;

/// <summary>Emits <see cref="Hffe"/> and its parts (spatial attention, CBR, SWM, coordinate attention).</summary>
internal static class HffeEmitter
{
    public static string Emit(OnnxGraphBuilder graph, Hffe hffe, string ir, string dino, int grid, string prefix)
    {
        string attendedIr = Enhance(graph, hffe.sa_ir, hffe.cbr3_ir, ir, $"{prefix}.sa_ir", $"{prefix}.cbr3_ir");
        string attendedDo = Enhance(graph, hffe.sa_do, hffe.cbr3_do, dino, $"{prefix}.sa_do", $"{prefix}.cbr3_do");
        string weightIr = WeightMap(graph, hffe.swm_ir, attendedIr, $"{prefix}.swm_ir");
        string weightDo = WeightMap(graph, hffe.swm_do, attendedDo, $"{prefix}.swm_do");

        string calibratedIr = graph.Mul(ir, hffe.Crossed ? weightDo : weightIr);
        string calibratedDo = graph.Mul(dino, hffe.Crossed ? weightIr : weightDo);
        string fused = graph.Conv(graph.Concat(1, calibratedIr, calibratedDo), hffe.fuse_conv, $"{prefix}.fuse_conv",
            stride: 1, padding: 0);
        string fuseWeight = graph.Sigmoid(EmitCoordinateAttention(graph, hffe.coord_att, fused, grid,
            $"{prefix}.coord_att"));

        string enhancedIr = graph.Mul(fuseWeight,
            EmitCbr(graph, hffe.cbr1_ir, graph.Add(attendedIr, ir), $"{prefix}.cbr1_ir"));
        string enhancedDo = graph.Mul(fuseWeight,
            EmitCbr(graph, hffe.cbr1_do, graph.Add(attendedDo, dino), $"{prefix}.cbr1_do"));
        return graph.Conv(graph.Concat(1, enhancedIr, enhancedDo), hffe.out_conv, $"{prefix}.out_conv", 1, 0);
    }

    public static string EmitCbr(OnnxGraphBuilder graph, ConvBnRelu cbr, string x, string prefix)
    {
        string convolved = graph.Conv(x, cbr.conv, $"{prefix}.conv", stride: 1, padding: cbr.KernelSize / 2);
        return graph.Relu(graph.BatchNorm(convolved, cbr.bn, $"{prefix}.bn"));
    }

    private static string Enhance(OnnxGraphBuilder graph, SpatialAttention attention, ConvBnRelu? cbr3, string x,
        string attentionPrefix, string cbrPrefix)
    {
        string pooled = graph.Concat(1, graph.ReduceMean(x, [1], keepDims: true), graph.ReduceMax(x, [1], keepDims: true));
        string gate = graph.Sigmoid(graph.Conv(pooled, attention.conv, $"{attentionPrefix}.conv", stride: 1, padding: 3));
        string attended = graph.Mul(x, gate);
        return cbr3 is null ? attended : EmitCbr(graph, cbr3, attended, cbrPrefix);
    }

    private static string WeightMap(OnnxGraphBuilder graph, Sequential generator, string x, string prefix)
    {
        string reduced = EmitCbr(graph, (ConvBnRelu)generator[0], x, $"{prefix}.0");
        return graph.Sigmoid(graph.Conv(reduced, (Conv2d)generator[1], $"{prefix}.1", stride: 1, padding: 0));
    }

    private static string EmitCoordinateAttention(OnnxGraphBuilder graph, CoordinateAttention attention, string x,
        int grid, string prefix)
    {
        string alongHeight = graph.ReduceMean(x, [3], keepDims: true);
        string alongWidth = graph.Transpose(graph.ReduceMean(x, [2], keepDims: true), 0, 1, 3, 2);
        string mixed = graph.Conv(graph.Concat(2, alongHeight, alongWidth), attention.conv1, $"{prefix}.conv1", 1, 0);
        mixed = graph.HardSwish(graph.BatchNorm(mixed, attention.bn1, $"{prefix}.bn1"));

        string[] parts = graph.Split(mixed, 2, grid, grid);
        string gateHeight = graph.Sigmoid(graph.Conv(parts[0], attention.conv_h, $"{prefix}.conv_h", 1, 0));
        string gateWidth = graph.Sigmoid(graph.Conv(graph.Transpose(parts[1], 0, 1, 3, 2), attention.conv_w,
            $"{prefix}.conv_w", 1, 0));
        return graph.Mul(graph.Mul(x, gateWidth), gateHeight);
    }
}
