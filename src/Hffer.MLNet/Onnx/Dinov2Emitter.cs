using Hffer.MLNet.Modeling;

namespace Hffer.MLNet.Onnx;

/// <summary>
/// Emits <see cref="Dinov2VisionTransformer"/>. The positional table, already resized to the input's patch grid,
/// becomes a constant, since the branch is frozen and the input size fixed.
/// </summary>
internal static class Dinov2Emitter
{
    public static string Emit(OnnxGraphBuilder graph, Dinov2VisionTransformer vit, string image, int imageSize,
        string prefix)
    {
        int patchGrid = imageSize / vit.PatchSize;
        long dim = vit.EmbedDim;

        string patches = graph.Conv(image, vit.patch_embed.proj, $"{prefix}.patch_embed.proj", vit.PatchSize, 0);
        string tokens = TokenEmitter.FromMap(graph, patches, dim);

        // The CLS token is broadcast to the batch: [N] taken from the runtime shape, then [N, 1, dim].
        string batch = graph.Slice(graph.Shape(image), [0], [1], [0], [1]);
        string clsShape = graph.Concat(0, batch, graph.Int64s([1, dim]));
        string cls = graph.Expand(graph.Weight($"{prefix}.cls_token", vit.cls_token), clsShape);

        using var positions = vit.PositionEmbeddingFor(patchGrid);
        string x = graph.Add(graph.Concat(1, cls, tokens), graph.Weight($"{prefix}.pos_embed.resized", positions));

        for (int i = 0; i < vit.blocks.Count; i++)
            x = EmitBlock(graph, vit.blocks[i], x, $"{prefix}.blocks.{i}");

        x = graph.LayerNorm(x, vit.norm, $"{prefix}.norm", VitBlock.NormEpsilon);
        string patchTokens = graph.Slice(x, [1], [long.MaxValue], [1], [1]);
        return graph.Reshape(graph.Transpose(patchTokens, 0, 2, 1), 0, dim, patchGrid, patchGrid);
    }

    private static string EmitBlock(OnnxGraphBuilder graph, VitBlock block, string x, string prefix)
    {
        string attended = EmitAttention(graph, block.attn, graph.LayerNorm(x, block.norm1, $"{prefix}.norm1",
            VitBlock.NormEpsilon), $"{prefix}.attn");
        x = graph.Add(x, graph.Mul(attended, graph.Weight($"{prefix}.ls1.gamma", block.ls1.gamma)));

        string normalized = graph.LayerNorm(x, block.norm2, $"{prefix}.norm2", VitBlock.NormEpsilon);
        string mlp = MlpEmitter.Emit(graph, block.mlp, normalized, $"{prefix}.mlp");
        return graph.Add(x, graph.Mul(mlp, graph.Weight($"{prefix}.ls2.gamma", block.ls2.gamma)));
    }

    private static string EmitAttention(OnnxGraphBuilder graph, VitAttention attention, string x, string prefix)
    {
        long dim = attention.qkv.weight!.shape[1], heads = attention.Heads, headDim = dim / heads;

        // [N, T, 3 dim] -> [N, T, 3, heads, d] -> [3, N, heads, T, d], then pick q, k, v.
        string qkv = graph.Reshape(graph.Linear(x, attention.qkv, $"{prefix}.qkv"), 0, 0, 3, heads, headDim);
        string stacked = graph.Transpose(qkv, 2, 0, 3, 1, 4);
        string merged = AttentionEmitter.Emit(graph, graph.Gather(stacked, 0, 0), graph.Gather(stacked, 1, 0),
            graph.Gather(stacked, 2, 0), headDim);
        return graph.Linear(merged, attention.proj, $"{prefix}.proj");
    }
}
