using Google.Protobuf;

namespace Hffer.MLNet.Onnx;

// The subset of onnx.proto (ONNX IR 8) that the exporter writes, with the official field numbers. Each message
// computes its encoded size before it is written, so a model streams to disk without being buffered whole.

/// <summary>A protobuf message that knows its encoded size.</summary>
internal abstract class OnnxMessage
{
    public abstract int ComputeSize();

    public abstract void WriteTo(CodedOutputStream output);

    protected static int FieldSize(int field, OnnxMessage message)
    {
        int size = message.ComputeSize();
        return CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(size) + size;
    }

    protected static void WriteField(CodedOutputStream output, int field, OnnxMessage message)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteLength(message.ComputeSize());
        message.WriteTo(output);
    }

    protected static int StringSize(int field, string value) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeStringSize(value);

    protected static void WriteString(CodedOutputStream output, int field, string value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    protected static int Int64Size(int field, long value) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeInt64Size(value);

    protected static void WriteInt64(CodedOutputStream output, int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
    }
}

/// <summary>ONNX TensorProto.DataType values used here.</summary>
internal enum OnnxDataType
{
    Float = 1,
    Int64 = 7,
    String = 8,
}

internal sealed class OnnxTensor : OnnxMessage
{
    public required string Name { get; init; }

    public required long[] Dims { get; init; }

    public required OnnxDataType DataType { get; init; }

    /// <summary>Little-endian element bytes (the raw_data field), for numeric tensors.</summary>
    public ReadOnlyMemory<byte> RawData { get; init; }

    /// <summary>Elements of a string tensor (the string_data field).</summary>
    public IReadOnlyList<string> Strings { get; init; } = [];

    public override int ComputeSize() =>
        Dims.Sum(d => Int64Size(1, d)) + Int64Size(2, (long)DataType) + StringSize(8, Name)
        + Strings.Sum(v => StringSize(6, v))
        + (DataType == OnnxDataType.String ? 0
            : CodedOutputStream.ComputeTagSize(9) + CodedOutputStream.ComputeLengthSize(RawData.Length) + RawData.Length);

    public override void WriteTo(CodedOutputStream output)
    {
        foreach (long dim in Dims)
            WriteInt64(output, 1, dim);
        WriteInt64(output, 2, (long)DataType);
        foreach (string value in Strings)
            WriteString(output, 6, value);
        WriteString(output, 8, Name);
        if (DataType == OnnxDataType.String)
            return;
        output.WriteTag(9, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(RawData));
    }
}

internal enum OnnxAttributeType
{
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Ints = 7,
    Strings = 8,
}

internal sealed class OnnxAttribute : OnnxMessage
{
    public required string Name { get; init; }

    public required OnnxAttributeType Type { get; init; }

    public float Float { get; init; }

    public long Int { get; init; }

    public string? String { get; init; }

    public IReadOnlyList<long> Ints { get; init; } = [];

    public IReadOnlyList<string> Strings { get; init; } = [];

    public OnnxTensor? Tensor { get; init; }

    public static OnnxAttribute Of(string name, long value) => new() { Name = name, Type = OnnxAttributeType.Int, Int = value };

    public static OnnxAttribute Of(string name, float value) =>
        new() { Name = name, Type = OnnxAttributeType.Float, Float = value };

    public static OnnxAttribute Of(string name, params long[] values) =>
        new() { Name = name, Type = OnnxAttributeType.Ints, Ints = values };

    public static OnnxAttribute Of(string name, string value) =>
        new() { Name = name, Type = OnnxAttributeType.String, String = value };

    public static OnnxAttribute OfStrings(string name, IReadOnlyList<string> values) =>
        new() { Name = name, Type = OnnxAttributeType.Strings, Strings = values };

    public static OnnxAttribute Of(string name, OnnxTensor value) =>
        new() { Name = name, Type = OnnxAttributeType.Tensor, Tensor = value };

    public override int ComputeSize()
    {
        int size = StringSize(1, Name) + Int64Size(20, (long)Type);
        size += Type switch
        {
            OnnxAttributeType.Float => CodedOutputStream.ComputeTagSize(2) + 4,
            OnnxAttributeType.Int => Int64Size(3, Int),
            OnnxAttributeType.String => StringSize(4, String!),
            OnnxAttributeType.Tensor => FieldSize(5, Tensor!),
            OnnxAttributeType.Ints => Ints.Sum(v => Int64Size(8, v)),
            OnnxAttributeType.Strings => Strings.Sum(s => StringSize(9, s)),
            _ => throw new InvalidOperationException($"Unsupported attribute type {Type}."),
        };
        return size;
    }

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, Name);
        switch (Type)
        {
            case OnnxAttributeType.Float:
                output.WriteTag(2, WireFormat.WireType.Fixed32);
                output.WriteFloat(Float);
                break;
            case OnnxAttributeType.Int:
                WriteInt64(output, 3, Int);
                break;
            case OnnxAttributeType.String:
                WriteString(output, 4, String!);
                break;
            case OnnxAttributeType.Tensor:
                WriteField(output, 5, Tensor!);
                break;
            case OnnxAttributeType.Ints:
                foreach (long value in Ints)
                    WriteInt64(output, 8, value);
                break;
            case OnnxAttributeType.Strings:
                foreach (string value in Strings)
                    WriteString(output, 9, value);
                break;
        }
        WriteInt64(output, 20, (long)Type);
    }
}

internal sealed class OnnxNode : OnnxMessage
{
    public required string OpType { get; init; }

    public required string Name { get; init; }

    public required IReadOnlyList<string> Inputs { get; init; }

    public required IReadOnlyList<string> Outputs { get; init; }

    public IReadOnlyList<OnnxAttribute> Attributes { get; init; } = [];

    public string Domain { get; init; } = "";

    public override int ComputeSize() =>
        Inputs.Sum(i => StringSize(1, i)) + Outputs.Sum(o => StringSize(2, o)) + StringSize(3, Name)
        + StringSize(4, OpType) + Attributes.Sum(a => FieldSize(5, a)) + (Domain.Length > 0 ? StringSize(7, Domain) : 0);

    public override void WriteTo(CodedOutputStream output)
    {
        foreach (string input in Inputs)
            WriteString(output, 1, input);
        foreach (string result in Outputs)
            WriteString(output, 2, result);
        WriteString(output, 3, Name);
        WriteString(output, 4, OpType);
        foreach (var attribute in Attributes)
            WriteField(output, 5, attribute);
        if (Domain.Length > 0)
            WriteString(output, 7, Domain);
    }
}

/// <summary>A graph input or output: a tensor with an element type and dimensions (a name for a symbolic one).</summary>
internal sealed class OnnxValueInfo : OnnxMessage
{
    public required string Name { get; init; }

    public required OnnxDataType ElementType { get; init; }

    /// <summary>Each dimension is a <see cref="long"/> size or a <see cref="string"/> symbol.</summary>
    public required IReadOnlyList<object> Dims { get; init; }

    public override int ComputeSize() => StringSize(1, Name) + LengthDelimited(2, TypeSize());

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, 1, Name);

        // TypeProto { tensor_type (1): Tensor { elem_type (1), shape (2): TensorShapeProto { dim (1) } } }
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteLength(TypeSize());
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteLength(TensorTypeSize());
        WriteInt64(output, 1, (long)ElementType);
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteLength(ShapeSize());
        foreach (object dim in Dims)
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteLength(DimensionSize(dim));
            if (dim is string symbol)
                WriteString(output, 2, symbol);
            else
                WriteInt64(output, 1, Convert.ToInt64(dim));
        }
    }

    private static int LengthDelimited(int field, int size) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(size) + size;

    private static int DimensionSize(object dim) =>
        dim is string symbol ? StringSize(2, symbol) : Int64Size(1, Convert.ToInt64(dim));

    private int ShapeSize() => Dims.Sum(d => LengthDelimited(1, DimensionSize(d)));

    private int TensorTypeSize() => Int64Size(1, (long)ElementType) + LengthDelimited(2, ShapeSize());

    private int TypeSize() => LengthDelimited(1, TensorTypeSize());
}

internal sealed class OnnxGraph : OnnxMessage
{
    public required string Name { get; init; }

    public required IReadOnlyList<OnnxNode> Nodes { get; init; }

    public required IReadOnlyList<OnnxTensor> Initializers { get; init; }

    public required IReadOnlyList<OnnxValueInfo> Inputs { get; init; }

    public required IReadOnlyList<OnnxValueInfo> Outputs { get; init; }

    public override int ComputeSize() =>
        Nodes.Sum(n => FieldSize(1, n)) + StringSize(2, Name) + Initializers.Sum(t => FieldSize(5, t))
        + Inputs.Sum(i => FieldSize(11, i)) + Outputs.Sum(o => FieldSize(12, o));

    public override void WriteTo(CodedOutputStream output)
    {
        foreach (var node in Nodes)
            WriteField(output, 1, node);
        WriteString(output, 2, Name);
        foreach (var tensor in Initializers)
            WriteField(output, 5, tensor);
        foreach (var input in Inputs)
            WriteField(output, 11, input);
        foreach (var result in Outputs)
            WriteField(output, 12, result);
    }
}

internal sealed class OnnxModel : OnnxMessage
{
    public const long IrVersion = 8;

    public required OnnxGraph Graph { get; init; }

    public required IReadOnlyList<(string Domain, long Version)> Opsets { get; init; }

    public string ProducerName { get; init; } = "Hffer.MLNet";

    public string ProducerVersion { get; init; } =
        typeof(OnnxModel).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    public override int ComputeSize() =>
        Int64Size(1, IrVersion) + StringSize(2, ProducerName) + StringSize(3, ProducerVersion) + FieldSize(7, Graph)
        + Opsets.Sum(o => FieldSize(8, new OnnxOpset(o.Domain, o.Version)));

    public override void WriteTo(CodedOutputStream output)
    {
        WriteInt64(output, 1, IrVersion);
        WriteString(output, 2, ProducerName);
        WriteString(output, 3, ProducerVersion);
        WriteField(output, 7, Graph);
        foreach (var (domain, version) in Opsets)
            WriteField(output, 8, new OnnxOpset(domain, version));
    }

    /// <summary>Writes the model to <paramref name="stream"/> in protobuf encoding.</summary>
    public void WriteTo(Stream stream)
    {
        using var output = new CodedOutputStream(stream, leaveOpen: true);
        WriteTo(output);
        output.Flush();
    }

    private sealed class OnnxOpset(string domain, long version) : OnnxMessage
    {
        public override int ComputeSize() => (domain.Length > 0 ? StringSize(1, domain) : 0) + Int64Size(2, version);

        public override void WriteTo(CodedOutputStream output)
        {
            if (domain.Length > 0)
                WriteString(output, 1, domain);
            WriteInt64(output, 2, version);
        }
    }
}
