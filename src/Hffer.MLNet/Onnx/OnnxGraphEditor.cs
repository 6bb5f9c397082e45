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
    public static byte[] ExposeOutput(byte[] model, string valueName, IReadOnlyList<object> dims)
    {
        var graph = OnnxModelReader.Read(model);
        if (graph.Outputs.Contains(valueName))
            return [.. model];
        if (graph.Producer(valueName) is null)
            throw new ArgumentException(
                $"No node of the graph produces '{valueName}'; its outputs are {string.Join(", ", graph.Outputs)}.",
                nameof(valueName));

        var output = new OnnxValueInfo { Name = valueName, ElementType = OnnxDataType.Float, Dims = dims };
        int outputSize = output.ComputeSize();
        int graphSize = CodedOutputStream.ComputeTagSize(12) + CodedOutputStream.ComputeLengthSize(outputSize)
            + outputSize;

        using var buffer = new MemoryStream(model.Length + graphSize + 16);
        buffer.Write(model);
        using (var writer = new CodedOutputStream(buffer, leaveOpen: true))
        {
            // ModelProto.graph (7) { GraphProto.output (12) { ValueInfoProto } }
            writer.WriteTag(7, WireFormat.WireType.LengthDelimited);
            writer.WriteLength(graphSize);
            writer.WriteTag(12, WireFormat.WireType.LengthDelimited);
            writer.WriteLength(outputSize);
            output.WriteTo(writer);
        }
        return buffer.ToArray();
    }
}
