namespace Hffer.MLNet.Onnx;

/// <summary>Emits the map/token conversions of <c>Modeling.Tokens</c>.</summary>
internal static class TokenEmitter
{
    /// <summary>[N, C, H, W] to [N, H*W, C].</summary>
    public static string FromMap(OnnxGraphBuilder graph, string map, long channels) =>
        graph.Transpose(graph.Reshape(map, 0, channels, -1), 0, 2, 1);

    /// <summary>[N, grid*grid, C] to [N, C, grid, grid].</summary>
    public static string ToMap(OnnxGraphBuilder graph, string tokens, long channels, long grid) =>
        graph.Reshape(graph.Transpose(tokens, 0, 2, 1), 0, channels, grid, grid);
}
