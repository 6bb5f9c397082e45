using Hffer.MLNet.Modeling;

namespace Hffer.MLNet.Onnx;

/// <summary>Emits <see cref="VitMlp"/>: fc1, exact GELU, fc2.</summary>
internal static class MlpEmitter
{
    public static string Emit(OnnxGraphBuilder graph, VitMlp mlp, string x, string prefix) =>
        graph.Linear(graph.Gelu(graph.Linear(x, mlp.fc1, $"{prefix}.fc1")), mlp.fc2, $"{prefix}.fc2");
}
