using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hffer.MLNet.Onnx;

/// <summary>
/// Builds an ONNX graph (default domain, opset <see cref="Opset"/>) node by node. Each operation method adds one
/// node and returns the name of its output, so emitters read like the forward code they mirror.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    public const long Opset = 17;

    private readonly List<OnnxNode> _nodes = [];
    private readonly List<OnnxTensor> _initializers = [];
    private readonly List<OnnxValueInfo> _inputs = [];
    private readonly List<OnnxValueInfo> _outputs = [];
    private readonly Dictionary<string, string> _sharedConstants = [];
    private readonly HashSet<string> _names = [];
    private int _counter;

    public string Input(string name, OnnxDataType type, params object[] dims)
    {
        _inputs.Add(new OnnxValueInfo { Name = Claim(name), ElementType = type, Dims = dims });
        return name;
    }

    /// <summary>Exposes <paramref name="value"/> as the graph output <paramref name="name"/>.</summary>
    public void Output(string value, string name, OnnxDataType type, params object[] dims)
    {
        if (value != name)
            Node("Identity", [value], [], name: name, output: name);
        _outputs.Add(new OnnxValueInfo { Name = name, ElementType = type, Dims = dims });
    }

    public OnnxModel Build(string graphName) => new()
    {
        Graph = new OnnxGraph
        {
            Name = graphName, Nodes = _nodes, Initializers = _initializers, Inputs = _inputs, Outputs = _outputs,
        },
        Opsets = _usesMlDomain ? [("", Opset), (MlDomain, MlOpset)] : [("", Opset)],
    };

    /// <summary>
    /// Records slot names for output <paramref name="output"/> the way ML.NET's ONNX transformer reads them: a
    /// LabelEncoder node named <c>mlnet.{output}.SlotNames</c> whose <c>keys_strings</c> are the names. The node maps
    /// a constant to an output nobody reads, so it costs nothing at run time.
    /// </summary>
    public void SlotNames(string output, IReadOnlyList<string> names)
    {
        string input = Claim($"mlnet.{output}.unusedInput");
        _initializers.Add(new OnnxTensor { Name = input, Dims = [1], DataType = OnnxDataType.String, Strings = [""] });
        _nodes.Add(new OnnxNode
        {
            OpType = "LabelEncoder", Domain = MlDomain, Name = $"mlnet.{output}.SlotNames", Inputs = [input],
            Outputs = [Claim($"mlnet.{output}.unusedOutput")],
            Attributes =
            [
                OnnxAttribute.OfStrings("keys_strings", names),
                OnnxAttribute.Of("values_int64s", Enumerable.Range(0, names.Count).Select(i => (long)i).ToArray()),
                OnnxAttribute.Of("default_int64", -1L),
            ],
        });
        _usesMlDomain = true;
    }

    private const string MlDomain = "ai.onnx.ml";
    private const long MlOpset = 2;
    private bool _usesMlDomain;

    // ---- initializers ----------------------------------------------------------------------------------------

    /// <summary>Adds a float32 initializer holding a copy of <paramref name="tensor"/>.</summary>
    public string Weight(string name, Tensor tensor)
    {
        using var contiguous = tensor.detach().cpu().to(ScalarType.Float32).contiguous();
        float[] values = contiguous.data<float>().ToArray();
        return Floats(name, values, contiguous.shape);
    }

    public string Floats(string name, float[] values, params long[] dims)
    {
        byte[] bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        _initializers.Add(new OnnxTensor { Name = Claim(name), Dims = dims, DataType = OnnxDataType.Float, RawData = bytes });
        return name;
    }

    /// <summary>A shared int64 constant (shapes, axes, indices); a scalar when <paramref name="scalar"/> is set.</summary>
    public string Int64s(long[] values, bool scalar = false)
    {
        string key = (scalar ? "s:" : "v:") + string.Join(",", values);
        if (_sharedConstants.TryGetValue(key, out string? existing))
            return existing;

        string name = Claim($"const_i64_{_sharedConstants.Count}");
        byte[] bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        _initializers.Add(new OnnxTensor
        {
            Name = name, Dims = scalar ? [] : [values.Length], DataType = OnnxDataType.Int64, RawData = bytes,
        });
        _sharedConstants[key] = name;
        return name;
    }

    /// <summary>A shared float32 scalar constant, broadcast by elementwise operations.</summary>
    public string Scalar(float value)
    {
        string key = "f:" + BitConverter.SingleToInt32Bits(value);
        if (_sharedConstants.TryGetValue(key, out string? existing))
            return existing;

        string name = Floats($"const_f32_{_sharedConstants.Count}", [value]);
        _sharedConstants[key] = name;
        return name;
    }

    // ---- generic nodes ---------------------------------------------------------------------------------------

    public string Node(string opType, string[] inputs, OnnxAttribute[] attributes, string? name = null,
        string? output = null)
    {
        string result = output ?? Fresh(opType);
        _nodes.Add(new OnnxNode
        {
            OpType = opType, Name = name ?? result, Inputs = inputs, Outputs = [result], Attributes = attributes,
        });
        return result;
    }

    /// <summary>
    /// Gives <paramref name="value"/> the stable name <paramref name="name"/> through an Identity node, so a caller
    /// can later expose it as an output; ONNX Runtime removes the node when nothing reads the name.
    /// </summary>
    public string Named(string value, string name) => Node("Identity", [value], [], output: Claim(name));

    public string[] NodeWithOutputs(string opType, string[] inputs, int outputCount, OnnxAttribute[] attributes)
    {
        string[] results = Enumerable.Range(0, outputCount).Select(_ => Fresh(opType)).ToArray();
        _nodes.Add(new OnnxNode
        {
            OpType = opType, Name = results[0] + "_node", Inputs = inputs, Outputs = results, Attributes = attributes,
        });
        return results;
    }

    /// <summary>Adds a node that is never executed for its value but carries data for ML.NET to read.</summary>
    public void AddNode(OnnxNode node) => _nodes.Add(node);

    // ---- elementwise -----------------------------------------------------------------------------------------

    public string Add(string a, string b) => Node("Add", [a, b], []);

    public string Sub(string a, string b) => Node("Sub", [a, b], []);

    public string Mul(string a, string b) => Node("Mul", [a, b], []);

    public string Div(string a, string b) => Node("Div", [a, b], []);

    public string Relu(string x) => Node("Relu", [x], []);

    public string Sigmoid(string x) => Node("Sigmoid", [x], []);

    public string HardSwish(string x) => Node("HardSwish", [x], []);

    /// <summary>Exact GELU: 0.5 x (1 + erf(x / sqrt 2)).</summary>
    public string Gelu(string x)
    {
        string erf = Node("Erf", [Div(x, Scalar((float)Math.Sqrt(2.0)))], []);
        return Mul(Mul(x, Add(erf, Scalar(1f))), Scalar(0.5f));
    }

    public string Softmax(string x, long axis) => Node("Softmax", [x], [OnnxAttribute.Of("axis", axis)]);

    public string MatMul(string a, string b) => Node("MatMul", [a, b], []);

    // ---- shape -----------------------------------------------------------------------------------------------

    public string Reshape(string x, params long[] shape) => Node("Reshape", [x, Int64s(shape)], []);

    public string Transpose(string x, params long[] permutation) =>
        Node("Transpose", [x], [OnnxAttribute.Of("perm", permutation)]);

    public string Concat(long axis, params string[] inputs) => Node("Concat", inputs, [OnnxAttribute.Of("axis", axis)]);

    public string[] Split(string x, long axis, params long[] sizes) =>
        NodeWithOutputs("Split", [x, Int64s(sizes)], sizes.Length, [OnnxAttribute.Of("axis", axis)]);

    /// <summary>Selects index <paramref name="index"/> of <paramref name="axis"/>, removing that axis.</summary>
    public string Gather(string x, long index, long axis) =>
        Node("Gather", [x, Int64s([index], scalar: true)], [OnnxAttribute.Of("axis", axis)]);

    public string Slice(string x, long[] starts, long[] ends, long[] axes, long[] steps) =>
        Node("Slice", [x, Int64s(starts), Int64s(ends), Int64s(axes), Int64s(steps)], []);

    public string Shape(string x) => Node("Shape", [x], []);

    public string Expand(string x, string shape) => Node("Expand", [x, shape], []);

    public string ReduceMean(string x, long[] axes, bool keepDims) =>
        Node("ReduceMean", [x], [OnnxAttribute.Of("axes", axes), OnnxAttribute.Of("keepdims", keepDims ? 1L : 0L)]);

    public string ReduceMax(string x, long[] axes, bool keepDims) =>
        Node("ReduceMax", [x], [OnnxAttribute.Of("axes", axes), OnnxAttribute.Of("keepdims", keepDims ? 1L : 0L)]);

    public string ArgMax(string x, long axis, bool keepDims) =>
        Node("ArgMax", [x], [OnnxAttribute.Of("axis", axis), OnnxAttribute.Of("keepdims", keepDims ? 1L : 0L)]);

    // ---- layers ----------------------------------------------------------------------------------------------

    public string Conv(string x, Conv2d conv, string prefix, long stride, long padding)
    {
        long kernel = conv.weight!.shape[2];
        var inputs = new List<string> { x, Weight(prefix + ".weight", conv.weight) };
        if (conv.bias is not null)
            inputs.Add(Weight(prefix + ".bias", conv.bias));

        return Node("Conv", inputs.ToArray(),
        [
            OnnxAttribute.Of("kernel_shape", kernel, kernel),
            OnnxAttribute.Of("strides", stride, stride),
            OnnxAttribute.Of("pads", padding, padding, padding, padding),
        ]);
    }

    /// <summary>Inference-mode batch normalization with the running statistics.</summary>
    public string BatchNorm(string x, BatchNorm2d norm, string prefix)
    {
        return Node("BatchNormalization",
        [
            x,
            Weight(prefix + ".weight", norm.weight!),
            Weight(prefix + ".bias", norm.bias!),
            Weight(prefix + ".running_mean", norm.running_mean!),
            Weight(prefix + ".running_var", norm.running_var!),
        ], [OnnxAttribute.Of("epsilon", (float)BatchNormEpsilon)]);
    }

    /// <summary>TorchSharp's BatchNorm2d default, used by every BN in the network.</summary>
    public const double BatchNormEpsilon = 1e-5;

    /// <summary>Per-channel PReLU on an NCHW map.</summary>
    public string PRelu(string x, PReLU prelu, string prefix)
    {
        using var slope = prelu.weight!.detach().reshape(-1, 1, 1);
        return Node("PRelu", [x, Weight(prefix + ".weight", slope)], []);
    }

    public string LayerNorm(string x, TorchSharp.Modules.LayerNorm norm, string prefix, double epsilon) =>
        Node("LayerNormalization", [x, Weight(prefix + ".weight", norm.weight!), Weight(prefix + ".bias", norm.bias!)],
            [OnnxAttribute.Of("axis", -1L), OnnxAttribute.Of("epsilon", (float)epsilon)]);

    /// <summary>x W^T + b over the last axis, for any leading shape.</summary>
    public string Linear(string x, TorchSharp.Modules.Linear linear, string prefix)
    {
        using var transposed = linear.weight!.detach().t();
        string product = MatMul(x, Weight(prefix + ".weight_t", transposed));
        return linear.bias is null ? product : Add(product, Weight(prefix + ".bias", linear.bias));
    }

    // ---- naming ----------------------------------------------------------------------------------------------

    private string Fresh(string stem) => Claim($"{stem}_{_counter++}");

    private string Claim(string name)
    {
        if (!_names.Add(name))
            throw new InvalidOperationException($"The ONNX graph already has a value named '{name}'.");
        return name;
    }
}
