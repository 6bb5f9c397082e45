using Hffer.MLNet.Modeling;

namespace Hffer.MLNet.Onnx;

/// <summary>Emits one <see cref="FusionModule"/> in evaluation mode (stochastic depth is the identity).</summary>
internal static class FusionModuleEmitter
{
    public static string Emit(OnnxGraphBuilder graph, FusionModule module, string fused, string ir, string dino,
        string prefix)
    {
        double epsilon = FusionModule.NormEpsilon;
        string query = graph.LayerNorm(fused, module.norm1, $"{prefix}.norm1", epsilon);
        string viaIr = graph.Add(fused, EmitCrossAttention(graph, module.attn_ir, query,
            graph.LayerNorm(ir, module.norm_ir, $"{prefix}.norm_ir", epsilon), $"{prefix}.attn_ir"));
        string viaDo = graph.Add(fused, EmitCrossAttention(graph, module.attn_do, query,
            graph.LayerNorm(dino, module.norm_do, $"{prefix}.norm_do", epsilon), $"{prefix}.attn_do"));

        string merged;
        if (module.hffe is null)
        {
            merged = graph.Sub(graph.Add(viaIr, viaDo), fused);
        }
        else
        {
            long dim = module.norm1.weight!.shape[0];
            string map = HffeEmitter.Emit(graph, module.hffe, TokenEmitter.ToMap(graph, viaIr, dim, module.Grid),
                TokenEmitter.ToMap(graph, viaDo, dim, module.Grid), module.Grid, $"{prefix}.hffe");
            merged = graph.Add(fused, TokenEmitter.FromMap(graph, map, dim));
        }

        string normalized = graph.LayerNorm(merged, module.norm2, $"{prefix}.norm2", epsilon);
        return graph.Add(merged, MlpEmitter.Emit(graph, module.mlp, normalized, $"{prefix}.mlp"));
    }

    private static string EmitCrossAttention(OnnxGraphBuilder graph, CrossAttention attention, string query,
        string source, string prefix)
    {
        long dim = attention.q.weight!.shape[0], heads = attention.Heads, headDim = dim / heads;

        string queries = graph.Transpose(graph.Reshape(graph.Linear(query, attention.q, $"{prefix}.q"),
            0, 0, heads, headDim), 0, 2, 1, 3);
        string keysValues = graph.Transpose(graph.Reshape(graph.Linear(source, attention.kv, $"{prefix}.kv"),
            0, 0, 2, heads, headDim), 2, 0, 3, 1, 4);
        string merged = AttentionEmitter.Emit(graph, queries, graph.Gather(keysValues, 0, 0),
            graph.Gather(keysValues, 1, 0), headDim, AttentionOutputs.ProbabilitiesOf(prefix));
        return graph.Linear(merged, attention.proj, $"{prefix}.proj");
    }
}
