using System.Runtime.InteropServices;
using Google.Protobuf;
using Hffer.MLNet.Priors;

namespace Hffer.MLNet.Onnx;

/// <summary>
/// Turns someone else's ONNX image featurizer into the prior graph the scoring chain runs: a new input of 0-255 RGB
/// planes, the featurizer's preprocessing as nodes that produce its original input, and its chosen feature map as an
/// output. The featurizer's own fields (weights, nodes, operator sets, IR version) are copied byte for byte.
/// </summary>
/// <remarks>
/// The preprocessing uses only operators whose signatures are unchanged since opset 7 (Constant, Gather, Mul, Sub,
/// Div, Identity) and Constant nodes rather than initializers, which IR version 3 models would have to list as
/// inputs; so it fits models of any opset from 7 on. A merged single graph with the trained network is not possible
/// in general: that graph needs opset 17, and older featurizers use attributes later opsets removed (ResNet18's
/// BatchNormalization <c>spatial</c>).
/// </remarks>
internal static class OnnxPriorGraph
{
    /// <summary>The prior graph's input: planar RGB pixel values 0-255 [batch, 3, S, S].</summary>
    public const string PixelsInput = "HfferPriorPixels";

    /// <summary>The prior graph's output: the featurizer's map [batch, C, H, W] or tokens [batch, T, C].</summary>
    public const string MapOutput = "HfferPriorMap";

    private const string Prefix = "hffer_prior_preprocessing.";

    /// <param name="featurizer">The featurizer's ONNX bytes.</param>
    /// <param name="inputName">The featurizer input that takes the image.</param>
    /// <param name="batch">The input's batch dimension: a number, or a name when symbolic.</param>
    /// <param name="prior">The preprocessing description and the feature map's name.</param>
    /// <param name="mapDims">The declared dimensions of <see cref="MapOutput"/> (names for unknown ones).</param>
    public static byte[] Compose(byte[] featurizer, string inputName, object batch, OnnxFeaturizerPrior prior,
        IReadOnlyList<object> mapDims)
    {
        using var buffer = new MemoryStream(featurizer.Length + sizeof(float) * prior.Mean.Count + 4096);
        CopyFields(featurizer, buffer, (field, bytes) =>
        {
            if (field != 7)
                return false;
            WriteGraphWithout(bytes, inputName, buffer);
            return true;
        });

        // Appended as one more occurrence of ModelProto.graph, which parsers merge into the graph above.
        var additions = new GraphAdditions([.. Preprocessing(inputName, prior), MapIdentity(prior.FeatureMapName)],
            new OnnxValueInfo
            {
                Name = PixelsInput, ElementType = OnnxDataType.Float,
                Dims = [batch, 3L, (long)prior.InputSize, (long)prior.InputSize],
            },
            new OnnxValueInfo { Name = MapOutput, ElementType = OnnxDataType.Float, Dims = mapDims });
        using (var writer = new CodedOutputStream(buffer, leaveOpen: true))
        {
            writer.WriteTag(7, WireFormat.WireType.LengthDelimited);
            writer.WriteLength(additions.ComputeSize());
            additions.WriteTo(writer);
        }
        return buffer.ToArray();
    }

    /// <summary>The nodes from <see cref="PixelsInput"/> to the featurizer's input.</summary>
    private static List<OnnxNode> Preprocessing(string inputName, OnnxFeaturizerPrior prior)
    {
        var nodes = new List<OnnxNode>();
        string value = PixelsInput;
        string Constant(string name, OnnxTensor tensor)
        {
            nodes.Add(new OnnxNode
            {
                OpType = "Constant", Name = Prefix + name, Inputs = [], Outputs = [Prefix + name],
                Attributes = [OnnxAttribute.Of("value", tensor)],
            });
            return Prefix + name;
        }
        void Apply(string opType, string operand, params OnnxAttribute[] attributes)
        {
            string output = Prefix + opType.ToLowerInvariant();
            nodes.Add(new OnnxNode
            {
                OpType = opType, Name = output, Inputs = [value, operand], Outputs = [output], Attributes = attributes,
            });
            value = output;
        }

        if (prior.ChannelOrder == PriorChannelOrder.Bgr)
            Apply("Gather", Constant("bgr_order", Int64s("bgr_order", [3], [2, 1, 0])), OnnxAttribute.Of("axis", 1L));
        if (prior.PixelScale != 1f)
            Apply("Mul", Constant("scale", Floats("scale", [], [prior.PixelScale])));
        long[] meanShape = prior.Mean.Count == 3 ? [1, 3, 1, 1] : [1, 3, prior.InputSize, prior.InputSize];
        Apply("Sub", Constant("mean", Floats("mean", meanShape, prior.Mean)));
        if (prior.StandardDeviation.Any(s => s != 1f))
            Apply("Div", Constant("std", Floats("std", [1, 3, 1, 1], prior.StandardDeviation)));

        // The last step writes the featurizer's input, which its first nodes read.
        var last = nodes[^1];
        nodes[^1] = new OnnxNode
        {
            OpType = last.OpType, Name = last.Name, Inputs = last.Inputs, Outputs = [inputName],
            Attributes = last.Attributes,
        };
        return nodes;
    }

    /// <summary>The Identity node that names the feature map <see cref="MapOutput"/>.</summary>
    private static OnnxNode MapIdentity(string featureMapName) => new()
    {
        OpType = "Identity", Name = Prefix + "map", Inputs = [featureMapName], Outputs = [MapOutput],
    };

    private static OnnxTensor Floats(string name, long[] dims, IReadOnlyList<float> values) => new()
    {
        Name = Prefix + name, Dims = dims, DataType = OnnxDataType.Float,
        RawData = MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray(),
    };

    private static OnnxTensor Int64s(string name, long[] dims, long[] values) => new()
    {
        Name = Prefix + name, Dims = dims, DataType = OnnxDataType.Int64,
        RawData = MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
    };

    /// <summary>
    /// Copies every field of the message in <paramref name="bytes"/> verbatim to <paramref name="destination"/>,
    /// except the length-delimited ones <paramref name="replace"/> takes over (it returns true after writing its own
    /// or to drop the field).
    /// </summary>
    private static void CopyFields(byte[] bytes, Stream destination, Func<int, ByteString, bool> replace)
    {
        var input = new CodedInputStream(bytes);
        while (true)
        {
            int start = (int)input.Position;
            uint tag = input.ReadTag();
            if (tag == 0)
                break;

            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                if (replace(WireFormat.GetTagFieldNumber(tag), input.ReadBytes()))
                    continue;
            }
            else
            {
                input.SkipLastField();
            }
            destination.Write(bytes, start, (int)input.Position - start);
        }
    }

    private static void WriteGraphWithout(ByteString graph, string inputName, Stream destination)
    {
        using var kept = new MemoryStream(graph.Length);
        CopyFields(graph.ToByteArray(), kept, (field, bytes) => field == 11 && NameOf(bytes) == inputName);
        WriteField(destination, 7, kept.GetBuffer().AsSpan(0, (int)kept.Length));
    }

    /// <summary>Writes a length-delimited field: tag, length, then <paramref name="body"/>.</summary>
    private static void WriteField(Stream destination, int field, ReadOnlySpan<byte> body)
    {
        using (var writer = new CodedOutputStream(destination, leaveOpen: true))
        {
            writer.WriteTag(field, WireFormat.WireType.LengthDelimited);
            writer.WriteLength(body.Length);
        }
        destination.Write(body);
    }

    /// <summary>The name (field 1) of a ValueInfoProto.</summary>
    private static string NameOf(ByteString valueInfo)
    {
        var input = valueInfo.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            bool delimited = WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited;
            if (WireFormat.GetTagFieldNumber(tag) == 1 && delimited)
                return input.ReadString();
            input.SkipLastField();
        }
        return "";
    }

    /// <summary>A GraphProto fragment: nodes (field 1), one input (11), one output (12).</summary>
    private sealed class GraphAdditions(IReadOnlyList<OnnxNode> nodes, OnnxValueInfo input, OnnxValueInfo output)
        : OnnxMessage
    {
        public override int ComputeSize() =>
            nodes.Sum(n => FieldSize(1, n)) + FieldSize(11, input) + FieldSize(12, output);

        public override void WriteTo(CodedOutputStream writer)
        {
            foreach (var node in nodes)
                WriteField(writer, 1, node);
            WriteField(writer, 11, input);
            WriteField(writer, 12, output);
        }
    }
}
