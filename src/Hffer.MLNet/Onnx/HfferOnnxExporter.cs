using Hffer.MLNet.Modeling;
using TorchSharp;

namespace Hffer.MLNet.Onnx;

/// <summary>
/// Writes a trained <see cref="HfferNetwork"/> as an ONNX model (opset 17) that takes raw 0-255 planar RGB
/// pixels and returns softmax probabilities and the arg-max class index. Normalization, the frozen DINOv2
/// positional table and evaluation-mode batch normalization are all inside the graph. A network trained with an ONNX
/// prior takes the prior's feature map as a second input and pools and projects it inside the graph.
/// </summary>
internal static class HfferOnnxExporter
{
    public static void Export(HfferNetwork network, Stream destination, OnnxExportNames names,
        IReadOnlyList<string>? classNames = null) => Build(network, names, classNames).WriteTo(destination);

    /// <summary>
    /// The ONNX model of <paramref name="network"/>, not yet serialized. <paramref name="classNames"/>, when given,
    /// become the slot names ML.NET attaches to the probabilities column.
    /// </summary>
    public static OnnxModel Build(HfferNetwork network, OnnxExportNames names, IReadOnlyList<string>? classNames = null)
    {
        using var noGrad = torch.no_grad();
        var architecture = network.Architecture;
        int size = architecture.InputSize, grid = architecture.TokenGrid;
        long dim = architecture.FusionDim;
        var graph = new OnnxGraphBuilder();

        string pixels = graph.Input(names.Pixels, OnnxDataType.Float, "N", 3L, (long)size, (long)size);
        string image = Normalize(graph, pixels);

        string irMap = Ir50Emitter.Emit(graph, network.ir50, image, size, "ir50");
        irMap = graph.Conv(irMap, network.ir_conv, "ir_conv", stride: 2, padding: 1);
        irMap = graph.Conv(irMap, network.ir_embed, "ir_embed", stride: 1, padding: 0);
        string ir = TokenEmitter.FromMap(graph, irMap, dim);

        string dino;
        if (network.dinov2 is { } dinov2)
        {
            string dinoMap = Dinov2Emitter.Emit(graph, dinov2, image, size, "dinov2");
            dino = TokenEmitter.FromMap(graph,
                AdaptiveAveragePool(graph, dinoMap, architecture.VitPatchGrid, architecture.VitPatchGrid, grid,
                    "dinov2"), dim);
        }
        else
        {
            var shape = network.PriorMap!;
            string map = graph.Input(names.PriorMap, OnnxDataType.Float, ["N", .. shape.Dims.Cast<object>()]);
            if (shape.IsTokenSequence)
            {
                string patches = graph.Slice(map, [shape.LeadingTokens!.Value], [shape.TokenCount], [1], [1]);
                map = TokenEmitter.ToMap(graph, patches, shape.Channels, shape.Height);
            }
            string priorGrid = AdaptiveAveragePool(graph, map, shape.Height, shape.Width, grid, "prior");
            dino = graph.Linear(TokenEmitter.FromMap(graph, priorGrid, shape.Channels), network.prior_proj!,
                "prior_proj");
        }

        if (network.pos_embed_ir is not null && network.pos_embed_do is not null)
        {
            ir = graph.Add(ir, graph.Weight("pos_embed_ir", network.pos_embed_ir));
            dino = graph.Add(dino, graph.Weight("pos_embed_do", network.pos_embed_do));
        }

        string fused = ir;
        for (int i = 0; i < network.fusion.Count; i++)
            fused = FusionModuleEmitter.Emit(graph, network.fusion[i], fused, ir, dino, $"fusion.{i}");
        if (network.hffe is not null)
        {
            string map = HffeEmitter.Emit(graph, network.hffe, TokenEmitter.ToMap(graph, fused, dim, grid),
                TokenEmitter.ToMap(graph, dino, dim, grid), grid, "hffe");
            fused = TokenEmitter.FromMap(graph, map, dim);
        }

        string pooled = graph.ReduceMean(graph.LayerNorm(fused, network.norm, "norm", FusionModule.NormEpsilon), [1],
            keepDims: false);
        string logits = graph.Linear(pooled, network.head, "head");
        graph.Output(graph.Softmax(logits, 1), names.Probabilities, OnnxDataType.Float, "N", (long)network.ClassCount);
        graph.Output(graph.ArgMax(logits, 1, keepDims: false), names.PredictedIndex, OnnxDataType.Int64, "N");
        if (classNames is not null)
            graph.SlotNames(names.Probabilities, classNames);

        return graph.Build("hffer");
    }

    /// <summary>Exports to a byte array (for models small enough to keep in memory).</summary>
    public static byte[] ExportToBytes(HfferNetwork network, OnnxExportNames names,
        IReadOnlyList<string>? classNames = null)
    {
        using var stream = new MemoryStream();
        Export(network, stream, names, classNames);
        return stream.ToArray();
    }

    private static string Normalize(OnnxGraphBuilder graph, string pixels)
    {
        string mean = graph.Floats("normalization.mean", ImageNormalization.Mean, 1, 3, 1, 1);
        string std = graph.Floats("normalization.std", ImageNormalization.StandardDeviation, 1, 3, 1, 1);
        string scaled = graph.Div(pixels, graph.Scalar(ImageNormalization.PixelScale));
        return graph.Div(graph.Sub(scaled, mean), std);
    }

    /// <summary>
    /// Adaptive average pooling of a <paramref name="height"/> x <paramref name="width"/> map to
    /// <paramref name="target"/> cells per side as two matrix products with PyTorch's bins
    /// [floor(i s / t), ceil((i + 1) s / t)).
    /// </summary>
    private static string AdaptiveAveragePool(OnnxGraphBuilder graph, string map, int height, int width, int target,
        string prefix)
    {
        string pooledRows = graph.MatMul(graph.Floats($"{prefix}.pool_rows", PoolingBins(height, target), target,
            height), map);
        var bins = PoolingBins(width, target);
        var columns = new float[width * target];
        for (int i = 0; i < target; i++)
            for (int j = 0; j < width; j++)
                columns[j * target + i] = bins[i * width + j];
        return graph.MatMul(pooledRows, graph.Floats($"{prefix}.pool_columns", columns, width, target));
    }

    /// <summary>Row i of the [target, source] matrix averages source cells [floor(i s / t), ceil((i + 1) s / t)).</summary>
    private static float[] PoolingBins(int source, int target)
    {
        var bins = new float[target * source];
        for (int i = 0; i < target; i++)
        {
            int start = i * source / target, end = ((i + 1) * source + target - 1) / target;
            for (int j = start; j < end; j++)
                bins[i * source + j] = 1f / (end - start);
        }
        return bins;
    }
}
