using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Hffer.MLNet.Priors;

/// <summary>
/// A frozen prior computed by an ONNX image model run by ONNX Runtime instead of the TorchSharp DINOv2 branch: the
/// model file, the graph value that holds a spatial feature map [1, C, H, W], and how pixels become its input.
/// Set it as <see cref="HfferOptions.OnnxPrior"/>.
/// </summary>
/// <remarks>
/// <para>
/// Each image is resized to <see cref="InputSize"/>, its 0-255 RGB planes are reordered to
/// <see cref="ChannelOrder"/>, and the model's input is (pixel x <see cref="PixelScale"/> - mean) / standard
/// deviation, with <see cref="Mean"/> per channel (3 values) or per pixel (a mean image of 3 x size x size values,
/// after reordering). The feature map is average-pooled to the fusion token grid and a trainable linear projection
/// brings its C channels to the fusion width.
/// </para>
/// <para>
/// The featurizer never trains: its features are computed once per image (and its mirror image) before the first
/// epoch and served from the feature cache. Scoring chains two <c>ApplyOnnxModel</c> steps: this model with the
/// preprocessing prepended, then the trained network. Any model fits, for example a DINOv2 exported from Hugging
/// Face: a value of shape [1, T, C] is read as a ViT's token sequence, its first tokens (class token, registers; the
/// fewest, at most 16, that leave a square number) dropped and the rest laid out as a square map.
/// </para>
/// </remarks>
public sealed class OnnxFeaturizerPrior
{
    /// <summary>Where ML.NET's ResNet18 package puts its models beside the application.</summary>
    public const string DnnImageModelsFolder = "DnnImageModels";

    /// <summary>The ONNX model file.</summary>
    public required string ModelPath { get; init; }

    /// <summary>
    /// The graph value holding the spatial feature map [1, C, H, W], or a ViT's token sequence [1, T, C] such as
    /// <c>last_hidden_state</c> (any node's output).
    /// </summary>
    public required string FeatureMapName { get; init; }

    /// <summary>The graph input that takes the image; null when the model has exactly one input.</summary>
    public string? InputName { get; init; }

    /// <summary>Side of the square image the model takes, in pixels.</summary>
    public int InputSize { get; init; } = 224;

    /// <summary>The channel order of the model's input.</summary>
    public PriorChannelOrder ChannelOrder { get; init; } = PriorChannelOrder.Rgb;

    /// <summary>Factor applied to 0-255 pixel values before the mean is subtracted (1/255 for ImageNet means).</summary>
    public float PixelScale { get; init; } = 1f / 255f;

    /// <summary>
    /// Mean subtracted after scaling, in <see cref="ChannelOrder"/>: 3 values, or 3 x size x size (a mean image).
    /// </summary>
    public IReadOnlyList<float> Mean { get; init; } = [0.485f, 0.456f, 0.406f];

    /// <summary>Per-channel standard deviation divided by last, in <see cref="ChannelOrder"/>.</summary>
    public IReadOnlyList<float> StandardDeviation { get; init; } = [0.229f, 0.224f, 0.225f];

    /// <summary>
    /// The ImageNet-pretrained ResNet18 of NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (0.24.0),
    /// whose build step copies its models beside the application: the 512 x 7 x 7 map of the last stage
    /// (<c>ReLU393_Output_0</c>) of 224-pixel BGR input minus the package's mean image, exactly what the package's
    /// <c>ResNetPreprocess.onnx</c> computes.
    /// </summary>
    /// <param name="modelsFolder">The folder holding <c>ResNet18Onnx</c> and <c>ResNetPrepOnnx</c>; null looks in
    /// <see cref="DnnImageModelsFolder"/> beside the application.</param>
    /// <exception cref="FileNotFoundException">A model file is missing (the package is not referenced).</exception>
    /// <exception cref="InvalidDataException">The preprocessing model is damaged.</exception>
    public static OnnxFeaturizerPrior ResNet18(string? modelsFolder = null)
    {
        string folder = modelsFolder ?? Path.Combine(AppContext.BaseDirectory, DnnImageModelsFolder);
        string model = Path.Combine(folder, "ResNet18Onnx", "ResNet18.onnx");
        string preprocess = Path.Combine(folder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        foreach (string path in new[] { model, preprocess })
        {
            if (!File.Exists(path))
                throw new FileNotFoundException(
                    $"The ResNet18 prior needs {path}. Reference the NuGet package " +
                    "Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0 in the application (its build copies the models " +
                    $"to {DnnImageModelsFolder}/) or pass the folder holding them.", path);
        }

        return new OnnxFeaturizerPrior
        {
            ModelPath = model,
            FeatureMapName = "ReLU393_Output_0",
            InputName = "Input247",
            InputSize = 224,
            ChannelOrder = PriorChannelOrder.Bgr,
            PixelScale = 1f,
            Mean = MeanImageOf(preprocess),
            StandardDeviation = [1f, 1f, 1f],
        };
    }

    /// <summary>
    /// The mean image the package's preprocessing model subtracts: its output for a black image, negated. The model
    /// is affine (reorder, then subtract), so this recovers it exactly.
    /// </summary>
    private static float[] MeanImageOf(string preprocessModel)
    {
        using var session = OnnxPrior.OpenSession(File.ReadAllBytes(preprocessModel), preprocessModel);
        var (name, metadata) = session.InputMetadata.Single();
        var black = new DenseTensor<float>(metadata.Dimensions.Select(d => Math.Max(d, 1)).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(name, black)]);
        return results[0].AsEnumerable<float>().Select(value => -value).ToArray();
    }

    /// <summary>Names the input size a mean image of another size was made for (a changed InputSize, usually).</summary>
    private string MeanImageSizeHint()
    {
        int side = (int)Math.Round(Math.Sqrt(Mean.Count / 3.0));
        return Mean.Count > 3 && 3 * side * side == Mean.Count
            ? $" It is a mean image for {nameof(InputSize)} {side}; a mean image goes with one input size."
            : "";
    }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
            throw new ArgumentException($"{nameof(ModelPath)} must name an ONNX file.", nameof(ModelPath));
        if (!File.Exists(ModelPath))
            throw new FileNotFoundException($"The ONNX prior model {ModelPath} does not exist.", ModelPath);
        if (string.IsNullOrWhiteSpace(FeatureMapName))
            throw new ArgumentException($"{nameof(FeatureMapName)} must name a graph value.", nameof(FeatureMapName));
        if (InputSize < 8)
            throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, "Expected at least 8 pixels.");
        if (!Enum.IsDefined(ChannelOrder))
            throw new ArgumentOutOfRangeException(nameof(ChannelOrder), ChannelOrder, "Unknown channel order.");
        if (!float.IsFinite(PixelScale) || PixelScale == 0)
            throw new ArgumentOutOfRangeException(nameof(PixelScale), PixelScale, "Expected a finite, non-zero scale.");
        if (Mean.Count != 3 && Mean.Count != 3 * InputSize * InputSize)
            throw new ArgumentException(
                $"{nameof(Mean)} has {Mean.Count} values; expected 3 (per channel) or {3 * InputSize * InputSize} " +
                $"(a 3 x {InputSize} x {InputSize} mean image)." + MeanImageSizeHint(), nameof(Mean));
        if (Mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException($"{nameof(Mean)} holds a NaN or infinite value.", nameof(Mean));
        if (StandardDeviation.Count != 3 || StandardDeviation.Any(s => !float.IsFinite(s) || s <= 0))
            throw new ArgumentException(
                $"{nameof(StandardDeviation)} must hold 3 positive values, got " +
                $"[{string.Join(", ", StandardDeviation)}].",
                nameof(StandardDeviation));
    }
}
