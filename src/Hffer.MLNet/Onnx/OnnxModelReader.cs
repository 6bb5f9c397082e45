using Google.Protobuf;

namespace Hffer.MLNet.Onnx;

/// <summary>One node of an ONNX graph, as far as graph editing needs it.</summary>
internal sealed record OnnxNodeSummary(string Name, string OpType, IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs);

/// <summary>The names in an ONNX model's main graph and its operator-set versions by domain ("" is ai.onnx).</summary>
internal sealed record OnnxGraphSummary(IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyList<OnnxNodeSummary> Nodes, IReadOnlyDictionary<string, long> Opsets)
{
    /// <summary>The node that produces <paramref name="value"/>, or null when it is a graph input or initializer.</summary>
    public OnnxNodeSummary? Producer(string value) => Nodes.FirstOrDefault(n => n.Outputs.Contains(value));
}

/// <summary>
/// Reads the structure of an ONNX model (ModelProto, official field numbers) without its weights: graph inputs and
/// outputs, nodes with their operator and value names, operator sets. Everything else is skipped unread.
/// Repeated occurrences of the graph field are merged, as protobuf parsers (and so ONNX Runtime) do.
/// </summary>
internal static class OnnxModelReader
{
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ONNX model.</exception>
    public static OnnxGraphSummary Read(byte[] model, string source = "the ONNX model")
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var nodes = new List<OnnxNodeSummary>();
        var opsets = new Dictionary<string, long>();
        bool sawGraph = false;
        try
        {
            var input = new CodedInputStream(model);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 7 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                        sawGraph = true;
                        ReadGraph(input.ReadBytes(), inputs, outputs, nodes);
                        break;
                    case 8 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                        var (domain, version) = ReadOpset(input.ReadBytes());
                        opsets[domain] = version;
                        break;
                    default:
                        input.SkipLastField();
                        break;
                }
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source} is not a well-formed ONNX model: {e.Message} The file may be " +
                "truncated or not an ONNX model; download, restore or export it again.", e);
        }

        if (!sawGraph)
            throw new InvalidDataException($"{source} is not an ONNX model: it has no graph.");
        return new OnnxGraphSummary(inputs, outputs, nodes, opsets);
    }

    private static void ReadGraph(ByteString bytes, List<string> inputs, List<string> outputs,
        List<OnnxNodeSummary> nodes)
    {
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            bool delimited = WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited;
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when delimited:
                    nodes.Add(ReadNode(input.ReadBytes()));
                    break;
                case 11 when delimited:
                    inputs.Add(ReadName(input.ReadBytes()));
                    break;
                case 12 when delimited:
                    outputs.Add(ReadName(input.ReadBytes()));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
    }

    private static OnnxNodeSummary ReadNode(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", opType = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            bool delimited = WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited;
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when delimited: inputs.Add(input.ReadString()); break;
                case 2 when delimited: outputs.Add(input.ReadString()); break;
                case 3 when delimited: name = input.ReadString(); break;
                case 4 when delimited: opType = input.ReadString(); break;
                default: input.SkipLastField(); break;
            }
        }
        return new OnnxNodeSummary(name, opType, inputs, outputs);
    }

    /// <summary>The name (field 1) of a ValueInfoProto.</summary>
    private static string ReadName(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        string name = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            bool delimited = WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited;
            if (WireFormat.GetTagFieldNumber(tag) == 1 && delimited)
                name = input.ReadString();
            else
                input.SkipLastField();
        }
        return name;
    }

    private static (string Domain, long Version) ReadOpset(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        string domain = "";
        long version = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                    domain = input.ReadString();
                    break;
                case 2 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint:
                    version = input.ReadInt64();
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return (domain, version);
    }
}
