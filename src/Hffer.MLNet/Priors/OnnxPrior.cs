using System.Security.Cryptography;
using System.Text;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Hffer.MLNet.Priors;

/// <summary>
/// An <see cref="OnnxFeaturizerPrior"/> made ready: the composed prior graph (preprocessing + featurizer + map
/// output), the map's shape found by running it once, an identity hash, and an ONNX Runtime session that computes
/// the map of one image for training.
/// </summary>
internal sealed class OnnxPrior : IDisposable
{
    // Bump when the composition or the pooling of prior features changes, so older cached features stop matching.
    private const string Version = "hffer-onnx-prior-1";

    private readonly InferenceSession _session;

    private OnnxPrior(OnnxFeaturizerPrior description, byte[] model, PriorMapShape shape)
    {
        Description = description;
        Model = model;
        MapShape = shape;
        _session = OpenSession(model, description.ModelPath);
        Identity = Convert.ToHexStringLower(SHA256.HashData(
            [.. Encoding.UTF8.GetBytes(Version), .. SHA256.HashData(model)]))[..32];
    }

    public OnnxFeaturizerPrior Description { get; }

    /// <summary>
    /// The composed prior graph: <see cref="OnnxPriorGraph.PixelsInput"/> in, <see cref="OnnxPriorGraph.MapOutput"/> out.
    /// </summary>
    public byte[] Model { get; }

    public PriorMapShape MapShape { get; }

    /// <summary>Hash of the composed graph (weights, preprocessing, chosen map).</summary>
    public string Identity { get; }

    /// <summary>
    /// Identity of the cached features for a <paramref name="grid"/> x <paramref name="grid"/> token grid, which they
    /// are pooled to: the key of disk-cache folders and checkpoints.
    /// </summary>
    public string FeatureIdentity(int grid) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Identity};grid {grid}")))[..32];

    public int InputSize => Description.InputSize;

    /// <summary>
    /// Reads, checks and composes the featurizer. Its value <see cref="OnnxFeaturizerPrior.FeatureMapName"/> may be a
    /// map [1, C, H, W] or a ViT's token sequence [1, T, C] (a Hugging Face <c>last_hidden_state</c>), read as up to
    /// 16 leading tokens plus a square grid.
    /// </summary>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model ONNX Runtime can load.</exception>
    /// <exception cref="ArgumentException">The input or the feature map does not exist or has the wrong shape.</exception>
    public static OnnxPrior Load(OnnxFeaturizerPrior description)
    {
        description.Validate();
        string path = description.ModelPath;
        byte[] featurizer = File.ReadAllBytes(path);
        var graph = OnnxModelReader.Read(featurizer, path);

        string inputName;
        int[] inputDims;
        using (var probe = OpenSession(featurizer, path))
        {
            var inputs = probe.InputMetadata;
            inputName = description.InputName ?? (inputs.Count == 1
                ? inputs.Keys.Single()
                : throw new ArgumentException(
                    $"{path} has {inputs.Count} inputs ({string.Join(", ", inputs.Keys)}); set " +
                    $"{nameof(OnnxFeaturizerPrior.InputName)}.", nameof(description)));
            if (!inputs.TryGetValue(inputName, out var input))
                throw new ArgumentException(
                    $"{path} has no input '{inputName}'; its inputs are {string.Join(", ", inputs.Keys)}.",
                    nameof(description));
            inputDims = input.Dimensions;
        }
        CheckInput(path, inputName, inputDims, description.InputSize);
        if (graph.Producer(description.FeatureMapName) is null)
            throw new ArgumentException(
                $"No node of {path} produces '{description.FeatureMapName}'. The last node outputs are " +
                string.Join(", ", graph.Nodes.TakeLast(8).SelectMany(n => n.Outputs)) + ".", nameof(description));

        // Run once with an open shape to learn the map's, then declare it, as ML.NET sizes columns from the graph.
        object batch = inputDims[0] > 0 ? (long)inputDims[0] : "N";
        var shape = MeasureMap(path, OnnxPriorGraph.Compose(featurizer, inputName, batch, description,
            [batch, "d1", "d2", "d3"]), description);
        byte[] model = OnnxPriorGraph.Compose(featurizer, inputName, batch, description,
            [batch, .. shape.Dims.Cast<object>()]);
        return new OnnxPrior(description, model, shape);
    }

    /// <summary>
    /// The feature map [C, H, W] (or token sequence [T, C]) of one image: planar RGB 0-255 bytes at
    /// <see cref="InputSize"/>, mirrored left-right first when asked.
    /// </summary>
    public float[] Map(ReadOnlySpan<byte> image, bool mirrored)
    {
        int size = InputSize;
        var pixels = new DenseTensor<float>([1, 3, size, size]);
        var values = pixels.Buffer.Span;
        for (int row = 0; row < 3 * size; row++)
        {
            var source = image.Slice(row * size, size);
            var destination = values.Slice(row * size, size);
            for (int x = 0; x < size; x++)
                destination[x] = source[mirrored ? size - 1 - x : x];
        }

        using var results = _session.Run([NamedOnnxValue.CreateFromTensor(OnnxPriorGraph.PixelsInput, pixels)],
            [OnnxPriorGraph.MapOutput]);
        return results[0].AsEnumerable<float>().Take(MapShape.Length).ToArray();
    }

    public void Dispose() => _session.Dispose();

    private static void CheckInput(string path, string inputName, int[] dims, int inputSize)
    {
        bool fits = dims.Length == 4 && dims[0] is 1 or -1 && dims[1] is 3 or -1
            && (dims[2] == inputSize || dims[2] == -1) && (dims[3] == inputSize || dims[3] == -1);
        if (!fits)
            throw new ArgumentException(
                $"Input '{inputName}' of {path} has shape [{string.Join(", ", dims)}]; the prior needs " +
                $"[1, 3, {inputSize}, {inputSize}] ({nameof(OnnxFeaturizerPrior.InputSize)} is {inputSize}).");
    }

    private static PriorMapShape MeasureMap(string path, byte[] model, OnnxFeaturizerPrior description)
    {
        using var session = OpenSession(model, path);
        var black = new DenseTensor<float>([1, 3, description.InputSize, description.InputSize]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxPriorGraph.PixelsInput, black)],
            [OnnxPriorGraph.MapOutput]);
        var dims = results[0].AsTensor<float>().Dimensions.ToArray();
        var shape = dims switch
        {
            [1, var channels, var height, var width] => new PriorMapShape(channels, height, width),
            [1, var tokens, var channels] => PriorMapShape.FromTokenSequence(tokens, channels),
            _ => null,
        };
        return shape ?? throw new ArgumentException(
            $"'{description.FeatureMapName}' of {path} has shape [{string.Join(", ", dims)}] for one image; the " +
            "prior needs a spatial map [1, C, H, W] or a token sequence [1, T, C] whose last tokens form a square.");
    }

    /// <exception cref="InvalidDataException">ONNX Runtime cannot load the model (the message names the file).</exception>
    internal static InferenceSession OpenSession(byte[] model, string path)
    {
        try
        {
            return new InferenceSession(model);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException(
                $"ONNX Runtime cannot load {path}: {e.Message} The file may be truncated or not an ONNX model; " +
                "download, restore or export it again.", e);
        }
    }
}
