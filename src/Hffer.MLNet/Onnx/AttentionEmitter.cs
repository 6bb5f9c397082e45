namespace Hffer.MLNet.Onnx;

/// <summary>Emits the scaled dot-product attention core shared by the ViT and fusion attentions.</summary>
internal static class AttentionEmitter
{
    /// <summary>
    /// softmax(q k^T / sqrt(d)) v over [N, heads, tokens, d] inputs, merged back to [N, tokens, heads * d].
    /// <paramref name="probabilitiesName"/>, when given, names the attention weights [N, heads, queries, keys].
    /// </summary>
    public static string Emit(OnnxGraphBuilder graph, string query, string key, string value, long headDim,
        string? probabilitiesName = null)
    {
        string scaled = graph.Mul(query, graph.Scalar((float)(1.0 / Math.Sqrt(headDim))));
        string logits = graph.MatMul(scaled, graph.Transpose(key, 0, 1, 3, 2));
        string probabilities = graph.Softmax(logits, -1);
        if (probabilitiesName is not null)
            probabilities = graph.Named(probabilities, probabilitiesName);
        string attended = graph.MatMul(probabilities, value);
        return graph.Reshape(graph.Transpose(attended, 0, 2, 1, 3), 0, 0, -1);
    }
}
