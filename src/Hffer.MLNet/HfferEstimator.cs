using Hffer.MLNet.Data;
using Hffer.MLNet.Devices;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Native;
using Hffer.MLNet.Onnx;
using Hffer.MLNet.Priors;
using Hffer.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Hffer.MLNet;

/// <summary>
/// Trains HFFER (hybrid IR50 + frozen DINOv2 features with bidirectional cross-attention fusion and HFFE) with
/// TorchSharp, exports it to ONNX, and returns a transformer that scores through ML.NET's ONNX components.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// | | |
/// | -- | -- |
/// | Input columns | image (`LoadImages`), label (key type) |
/// | Output columns | `Score` (vector of Single, probabilities in key order), `PredictedLabel` (the label's key type) |
/// | Training | TorchSharp, CPU or CUDA (`GpuDeviceId`); needs a native TorchSharp package in the app |
/// | Scoring | ONNX Runtime via `ApplyOnnxModel` (two steps with an ONNX prior); app needs `Microsoft.ML.OnnxRuntime` |
/// | Exportable to ONNX | Yes: `HfferTransformer.SaveOnnx` (plus `SavePriorOnnx` with an ONNX prior) |
/// ]]></format>
/// Without <see cref="HfferOptions.Dinov2Checkpoint"/> the frozen DINOv2 branch keeps random weights and is no real
/// prior; the official checkpoints must be downloaded by the user (<c>WeightDownloader</c> helps). Offline,
/// <see cref="HfferOptions.OnnxPrior"/> = <see cref="OnnxFeaturizerPrior.ResNet18"/> gives a pretrained, weaker prior
/// from NuGet. `Fit` keeps the resized training images in memory (3 x S x S bytes per image) and, with the default
/// <see cref="HfferOptions.FeatureCache"/>, the frozen branch's features (301 KB per image with mirrors for the paper
/// preset; use <see cref="Training.FeatureCacheMode.Disk"/> for large sets).
/// </remarks>
public sealed class HfferEstimator : IEstimator<HfferTransformer>
{
    private const string KeyValuesAnnotation = "KeyValues";

    private readonly TransformsCatalog _catalog;
    private readonly IHostEnvironment _environment;
    private readonly HfferOptions _options;

    internal HfferEstimator(TransformsCatalog catalog, IHostEnvironment environment, HfferOptions options)
    {
        options.Validate();
        _catalog = catalog;
        _environment = environment;
        _options = options;
    }

    /// <summary>Trains on <paramref name="input"/> and returns the fitted scoring transformer.</summary>
    /// <exception cref="ArgumentException">A column is missing or has the wrong type.</exception>
    /// <exception cref="InvalidDataException">A row's image or label cannot be used.</exception>
    /// <exception cref="OperationCanceledException">Training was cancelled.</exception>
    /// <exception cref="InvalidOperationException">
    /// <c>MLContext.GpuDeviceId</c> asks for a GPU that ONNX Runtime cannot use and <c>FallbackToCpu</c> is off
    /// (checked before training).
    /// </exception>
    public HfferTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);

        // The options object stays the caller's, so it is checked again in case it changed since construction.
        _options.Validate();
        TorchSharpRuntime.EnsureLoaded();
        var labelType = CheckInputSchema(input.Schema);
        var classNames = ClassNames(input.Schema[_options.LabelColumnName], labelType);
        var architecture = _options.ResolveArchitecture();

        using var channel = _environment.Start("Hffer");
        void Info(string message) => channel.Info(MessageSensitivity.None, message);
        var request = DeviceRequest.Of(_options.GpuDeviceId, _options.FallbackToCpu, _environment,
            nameof(HfferOptions));
        var devices = DeviceSelection.Resolve(request, needsTraining: true,
            message => channel.Warning(MessageSensitivity.None, message));
        using var prior = _options.OnnxPrior is { } description ? OnnxPrior.Load(description) : null;
        if (prior is not null)
            DescribePrior(prior, architecture, Info, message => channel.Warning(MessageSensitivity.None, message));
        var pipeline = new ScoringPipeline(ScoringCatalog(devices), _options, architecture.InputSize,
            prior?.InputSize, devices.ScoringGpuDeviceId);
        void Warn(string message) => channel.Warning(MessageSensitivity.None, message);
        var images = ReadImages(input, pipeline, classNames.Count, "training", Warn);
        WarnAboutEmptyClasses(images, classNames, Warn);
        ImageSet? validation = null;
        if (_options.ValidationSet is { } validationData)
        {
            CheckInputSchema(validationData.Schema);
            validation = ReadImages(validationData, pipeline, classNames.Count, "validation", Warn);
        }
        else if (_options.ValidationFraction > 0 && images.Count > 1)
        {
            (images, validation) = images.Split(_options.ValidationFraction, _options.Seed);
        }
        Info($"Training HFFER ({Describe(architecture, prior)}) on {images.Count} images, {classNames.Count} classes" +
            (validation is null ? "." : $", validating on {validation.Count}."));

        Info(devices.Describe());
        var settings = CreateSettings(architecture, classNames.Count, devices.Training) with { OnnxPrior = prior };

        var trainer = new HfferTrainer(settings, Info, message => channel.Warning(MessageSensitivity.None, message));
        using var network = trainer.Train(images, validation, _options.CancellationToken);

        byte[] onnx = HfferOnnxExporter.ExportToBytes(network, pipeline.ExportNames, classNames);
        Info($"Exported the trained network to ONNX ({onnx.Length:N0} bytes).");
        var scoring = pipeline.Build(input, onnx, classNames, prior?.Model);
        return new HfferTransformer(scoring, pipeline, onnx, prior?.Model, classNames, architecture, trainer.History,
            trainer.BestEpoch, request, _environment);
    }

    /// <summary>The input schema plus the score and predicted-label columns.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var columns = inputSchema.ToDictionary(c => c.Name);
        if (!columns.TryGetValue(_options.ImageColumnName, out var image))
            throw new ArgumentException($"The input has no image column '{_options.ImageColumnName}'.", nameof(inputSchema));
        if (image.ItemType is not ImageDataViewType)
            throw new ArgumentException(
                $"Column '{_options.ImageColumnName}' must hold images (use LoadImages).", nameof(inputSchema));
        if (!columns.TryGetValue(_options.LabelColumnName, out var label))
            throw new ArgumentException($"The input has no label column '{_options.LabelColumnName}'.", nameof(inputSchema));
        if (!label.IsKey)
            throw new ArgumentException(
                $"Column '{_options.LabelColumnName}' must be a key type (use MapValueToKey).", nameof(inputSchema));

        // A schema shape keeps neither the class count nor annotation values, only their types.
        var keyNames = new DataViewSchema.Annotations.Builder();
        keyNames.Add(KeyValuesAnnotation, new VectorDataViewType(TextDataViewType.Instance, 1),
            (ref VBuffer<ReadOnlyMemory<char>> names) =>
                names = new VBuffer<ReadOnlyMemory<char>>(1, [ReadOnlyMemory<char>.Empty]));
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(_options.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single));
        builder.AddColumn(_options.PredictedLabelColumnName, new KeyDataViewType(typeof(uint), int.MaxValue),
            label.Annotations.Any(a => a.Name == KeyValuesAnnotation) ? keyNames.ToAnnotations() : null);
        foreach (var added in SchemaShapes.From(builder.ToSchema()))
            columns[added.Name] = added;
        return new SchemaShape(columns.Values);
    }

    /// <summary>
    /// The catalog the scoring chain comes from. ML.NET's <c>ApplyOnnxModel</c> takes the context's GPU when given
    /// none, so a chain that falls back to the CPU in a GPU-requesting context is built from a CPU-only context.
    /// </summary>
    private TransformsCatalog ScoringCatalog(DeviceSelection devices) =>
        devices.ScoringGpuDeviceId is null && DeviceRequest.ContextRequestsGpu(_environment)
            ? new MLContext().Transforms
            : _catalog;

    /// <summary>Resizes and extracts the pixels of <paramref name="data"/> as the scorer will, and reads them.</summary>
    private ImageSet ReadImages(IDataView data, ScoringPipeline pipeline, int classCount, string purpose,
        Action<string> warn) =>
        ImageSetReader.Read(data, pipeline.Preprocessing().Fit(data).Transform(data), pipeline.Pixels,
            pipeline.PriorPixels, _options.LabelColumnName, classCount, _options.CancellationToken, purpose,
            _options.SkipUnreadableImages ? warn : null);

    private TrainingSettings CreateSettings(HfferArchitecture architecture, int classCount, TorchSharp.torch.Device device)
        => new()
        {
            Architecture = architecture,
            ClassCount = classCount,
            Epochs = _options.Epochs,
            BatchSize = _options.BatchSize,
            LearningRate = _options.ResolveLearningRate(),
            LearningRateDecay = _options.LearningRateDecay,
            Seed = _options.Seed,
            Device = device,
            HorizontalFlip = _options.HorizontalFlip,
            ShiftFraction = _options.RandomShift,
            ErasingProbability = _options.RandomErasing,
            WeightDecay = _options.WeightDecay,
            LabelSmoothing = _options.LabelSmoothing,
            SmoothedLossWeight = _options.SmoothedLossWeight,
            Dinov2Checkpoint = _options.Dinov2Checkpoint,
            Ir50Checkpoint = _options.Ir50Checkpoint,
            StrictWeightLoading = _options.StrictWeightLoading,
            EarlyStoppingPatience = _options.EarlyStoppingPatience,
            EarlyStoppingMinDelta = _options.EarlyStoppingMinDelta,
            BalanceClasses = _options.BalanceClasses,
            ProgressEveryNSteps = _options.ProgressEveryNSteps,
            FeatureCache = _options.FeatureCache,
            FeatureCacheDirectory = _options.ResolveFeatureCacheDirectory(),
            AugmentFrozenBranch = _options.AugmentFrozenBranch,
            CheckpointDirectory = _options.CheckpointDirectory,
            ResumeFromCheckpoint = _options.ResumeFromCheckpoint,
            EpochCompleted = _options.EpochCompleted,
            ProgressReported = _options.ProgressReported,
        };

    private KeyDataViewType CheckInputSchema(DataViewSchema schema)
    {
        var image = schema.GetColumnOrNull(_options.ImageColumnName)
            ?? throw new ArgumentException($"The input has no image column '{_options.ImageColumnName}'.");
        if (image.Type is not ImageDataViewType)
            throw new ArgumentException(
                $"Column '{_options.ImageColumnName}' holds {image.Type}, not images; load them with LoadImages.");

        var label = schema.GetColumnOrNull(_options.LabelColumnName)
            ?? throw new ArgumentException($"The input has no label column '{_options.LabelColumnName}'.");
        if (label.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ArgumentException(
                $"Column '{_options.LabelColumnName}' holds {label.Type}; HFFER needs a UInt32 key (use MapValueToKey).");
        if (key.Count < 2 || key.Count > int.MaxValue)
            throw new ArgumentException($"The label key of column '{_options.LabelColumnName}' has {key.Count} " +
                "value(s); a classifier needs at least two classes. If the data holds only one, list every class " +
                "with MapValueToKey's keyData (HfferDataCatalog.LoadClassNames).");
        return key;
    }

    /// <summary>The label's key names in key order, or "1".."C" when the key has none.</summary>
    /// <summary>A class without training images is never predicted; say so before hours of training.</summary>
    private static void WarnAboutEmptyClasses(ImageSet images, IReadOnlyList<string> classNames, Action<string> warn)
    {
        var counts = new int[classNames.Count];
        foreach (int label in images.Labels)
            counts[label]++;
        var empty = classNames.Where((_, c) => counts[c] == 0).ToArray();
        if (empty.Length > 0)
            warn($"No training images for {string.Join(", ", empty.Select(n => $"'{n}'"))}: the model will learn " +
                "never to predict " + (empty.Length == 1 ? "it" : "them") + ". Add images of every class, or leave " +
                "the class out of the label's keys.");
    }

    private static IReadOnlyList<string> ClassNames(DataViewSchema.Column label, KeyDataViewType key)
    {
        if (label.Annotations.Schema.GetColumnOrNull(KeyValuesAnnotation) is { } column &&
            column.Type is VectorDataViewType { ItemType: TextDataViewType })
        {
            VBuffer<ReadOnlyMemory<char>> names = default;
            label.Annotations.GetValue(KeyValuesAnnotation, ref names);
            return names.DenseValues().Select(n => n.ToString()).ToArray();
        }
        return Enumerable.Range(1, (int)key.Count).Select(i => i.ToString()).ToArray();
    }

    private static string Describe(HfferArchitecture a, OnnxPrior? prior) =>
        $"{a.InputSize}px input, IR50 units {string.Join("/", a.Ir50StageUnits)}, " +
        (prior is null
            ? $"ViT {a.VitDepth}x{a.VitEmbedDim}"
            : $"ONNX prior {Path.GetFileName(prior.Description.ModelPath)}") +
        $", {a.FusionModules} fusion modules of width {a.FusionDim}, HFFE {a.HffePlacement}";

    /// <summary>Logs what the ONNX prior is and warns when its map is smaller than the token grid.</summary>
    internal static void DescribePrior(OnnxPrior prior, HfferArchitecture architecture, Action<string> info,
        Action<string> warn)
    {
        var (map, grid) = (prior.MapShape, architecture.TokenGrid);
        info($"Frozen prior: {prior.Description.ModelPath}, '{prior.Description.FeatureMapName}' {map} at " +
            $"{prior.InputSize} px, average-pooled to {grid}x{grid} and projected to {architecture.FusionDim}.");
        if (map.Height < grid || map.Width < grid)
            warn($"The prior's map '{prior.Description.FeatureMapName}' is {map.Height}x{map.Width}, smaller than the " +
                $"{grid}x{grid} token grid: its cells are repeated, so the prior gives the fusion little or no " +
                "spatial detail. Choose an earlier value with a larger map.");
    }
}
