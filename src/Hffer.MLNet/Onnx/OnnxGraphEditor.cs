using Google.Protobuf;

namespace Hffer.MLNet.Onnx;

/// <summary>
/// Edits ONNX models that someone else exported, without rewriting them: the edit is a ModelProto fragment appended
/// to the original bytes. Protobuf parsers merge a repeated embedded message into the one before it and append its
/// repeated fields, so the result reads as the original graph plus the new entries, with every weight untouched.
/// </summary>
internal static class OnnxGraphEditor
{
    /// <summary>
    /// Makes the intermediate value <paramref name="valueName"/> (a float tensor of <paramref name="dims"/>; a
    /// <see cref="string"/> dimension is symbolic) an output of the graph, so a session can fetch it.
    /// </summary>
    /// <exception cref="ArgumentException">No node of the graph produces <paramref name="valueName"/>.</exception>
    /// <exception cref="InvalidDataException"><paramref name="model"/> is not a well-formed ONNX model.</exception>
    public static byte[] ExposeOutput(byte[] model, string valueName, IReadOnlyList<object> dims) =>
        ExposeOutputs(model, [(valueName, dims)]);

    /// <summary>Makes several intermediate float values outputs of the graph in one edit.</summary>
    /// <exception cref="ArgumentException">No node of the graph produces one of the values.</exception>
    /// <exception cref="InvalidDataException"><paramref name="model"/> is not a well-formed ONNX model.</exception>
    public static byte[] ExposeOutputs(byte[] model, IReadOnlyList<(string Name, IReadOnlyList<object> Dims)> values) =>
        ExposeOutputs(model, OnnxModelReader.Read(model), values);

    /// <summary>
    /// As above, for a caller that has already read <paramref name="graph"/> from <paramref name="model"/>.
    /// </summary>
    public static byte[] ExposeOutputs(byte[] model, OnnxGraphSummary graph,
        IReadOnlyList<(string Name, IReadOnlyList<object> Dims)> values)
    {
        var outputs = new List<OnnxValueInfo>();
        foreach (var (name, dims) in values)
        {
            if (graph.Outputs.Contains(name))
                continue;
            if (graph.Producer(name) is null)
                throw new ArgumentException(
                    $"No node of the graph produces '{name}'; its outputs are {string.Join(", ", graph.Outputs)}.",
                    nameof(values));
            outputs.Add(new OnnxValueInfo { Name = name, ElementType = OnnxDataType.Float, Dims = dims });
        }

        int graphSize = outputs.Sum(output =>
        {
            int size = output.ComputeSize();
            return CodedOutputStream.ComputeTagSize(12) + CodedOutputStream.ComputeLengthSize(size) + size;
        });
        using var buffer = new MemoryStream(model.Length + graphSize + 16);
        buffer.Write(model);
        if (outputs.Count == 0)
            return buffer.ToArray();
        using (var writer = new CodedOutputStream(buffer, leaveOpen: true))
        {
            // ModelProto.graph (7) { GraphProto.output (12) { ValueInfoProto } ... }
            writer.WriteTag(7, WireFormat.WireType.LengthDelimited);
            writer.WriteLength(graphSize);
            foreach (var output in outputs)
            {
                writer.WriteTag(12, WireFormat.WireType.LengthDelimited);
                writer.WriteLength(output.ComputeSize());
                output.WriteTo(writer);
            }
        }
        return buffer.ToArray();
    }
}
