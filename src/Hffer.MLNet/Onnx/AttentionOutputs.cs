namespace Hffer.MLNet.Onnx;

/// <summary>
/// The fusion modules' cross-attention weights, which exported graphs name so that attention maps can be read from
/// a saved model: <c>fusion.{i}.attn_ir.probabilities</c> and <c>fusion.{i}.attn_do.probabilities</c>, each
/// [N, heads, fused tokens, branch tokens].
/// </summary>
internal static class AttentionOutputs
{
    /// <summary>
    /// The name of the weights of the cross-attention whose parameters start with <paramref name="prefix"/>.
    /// </summary>
    public static string ProbabilitiesOf(string prefix) => prefix + ".probabilities";

    /// <summary>
    /// <paramref name="model"/> with the deepest fusion module's weights over the IR50 tokens and over the frozen
    /// branch's tokens added as outputs, and their names.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The graph has no named attention weights: it was not exported by this version of the package.
    /// </exception>
    public static (byte[] Model, string Ir50, string FrozenBranch) Expose(byte[] model, string source)
    {
        var graph = OnnxModelReader.Read(model, source);
        var produced = graph.Nodes.SelectMany(n => n.Outputs).ToHashSet();
        int deepest = -1;
        while (produced.Contains(ProbabilitiesOf($"fusion.{deepest + 1}.attn_ir")))
            deepest++;
        if (deepest < 0)
            throw new InvalidDataException($"{source} has no named attention weights, so no attention maps can be " +
                "read from it: it was exported by an earlier version of Hffer.MLNet. Train the model again with this " +
                "version to get attention maps; scoring is unaffected.");

        string ir50 = ProbabilitiesOf($"fusion.{deepest}.attn_ir");
        string frozenBranch = ProbabilitiesOf($"fusion.{deepest}.attn_do");
        object[] dims = ["N", "heads", "queries", "keys"];
        return (OnnxGraphEditor.ExposeOutputs(model, graph, [(ir50, dims), (frozenBranch, dims)]), ir50, frozenBranch);
    }
}
