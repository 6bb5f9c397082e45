using Hffer.MLNet.Devices;
using Hffer.MLNet.IO;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Scoring;
using Hffer.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Hffer.MLNet;

/// <summary>
/// A trained HFFER model. It scores through a chain of ML.NET components (image resize, pixel extraction,
/// <c>ApplyOnnxModel</c> on the exported graph, key mapping), and saves as that chain.
/// </summary>
/// <remarks>
/// <c>mlContext.Model.Save</c> writes the inner chain, so <c>mlContext.Model.Load</c> returns a
/// <c>TransformerChain</c> of ML.NET components with the same predictions (the ONNX graphs are embedded in the zip),
/// not an <see cref="HfferTransformer"/>. <see cref="ClassNames"/> and <see cref="TrainingHistory"/> are not kept in
/// the zip. Dispose the transformer to release the ONNX Runtime sessions.
/// </remarks>
public sealed class HfferTransformer : ITransformer, IDisposable
{
    private readonly ITransformer _scoring;
    private readonly ScoringPipeline _pipeline;
    private readonly byte[] _onnxModel;
    private readonly byte[]? _priorOnnxModel;
    private readonly DeviceRequest _device;
    private readonly IHostEnvironment _environment;

    internal HfferTransformer(ITransformer scoring, ScoringPipeline pipeline, byte[] onnxModel, byte[]? priorOnnxModel,
        IReadOnlyList<string> classNames, HfferArchitecture architecture,
        IReadOnlyList<HfferEpochMetrics> trainingHistory, int? bestEpoch, DeviceRequest device,
        IHostEnvironment environment)
    {
        BestEpoch = bestEpoch;
        _scoring = scoring;
        _pipeline = pipeline;
        _onnxModel = onnxModel;
        _priorOnnxModel = priorOnnxModel;
        _device = device;
        _environment = environment;
        ClassNames = classNames;
        Architecture = architecture;
        TrainingHistory = trainingHistory;
    }

    /// <summary>Class names in score-slot order (the label's key order).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The sizes of the trained network.</summary>
    public HfferArchitecture Architecture { get; }

    /// <summary>The epoch whose weights this model holds when validation chose it; null when the last epoch was kept.</summary>
    public int? BestEpoch { get; }

    /// <summary>Metrics of every training epoch.</summary>
    public IReadOnlyList<HfferEpochMetrics> TrainingHistory { get; }

    /// <summary>
    /// The exported ONNX graph: planar RGB 0-255 pixels in (and, with an ONNX prior, the prior's feature map
    /// <c>HfferPriorMap</c> [N, C, H, W] or [N, T, C]), probabilities and arg-max index out.
    /// </summary>
    public ReadOnlyMemory<byte> OnnxModel => _onnxModel;

    /// <summary>
    /// With <see cref="HfferOptions.OnnxPrior"/>: the prior graph the chain runs first (planar RGB 0-255 pixels
    /// <c>HfferPriorPixels</c> at the prior's input size in, <c>HfferPriorMap</c> out); empty otherwise.
    /// </summary>
    public ReadOnlyMemory<byte> PriorOnnxModel => _priorOnnxModel;

    /// <summary>Writes <see cref="PriorOnnxModel"/> to <paramref name="path"/> (temporary file, then a rename).</summary>
    /// <exception cref="InvalidOperationException">The model has no ONNX prior.</exception>
    public void SavePriorOnnx(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllBytes(path, _priorOnnxModel ?? throw new InvalidOperationException(
            "This model's prior is the DINOv2 branch inside its ONNX graph; there is no separate prior graph."));
    }

    /// <summary>
    /// A scorer that runs the same graphs on batches of images through ONNX Runtime directly, for bulk scoring
    /// outside ML.NET pipelines; see <see cref="HfferBatchScorer"/> for when to use which, and
    /// <see cref="HfferBatchScorer.FromOnnx"/> for a model saved with <see cref="SaveOnnx"/> in another process.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">
    /// The GPU asked for cannot be used by ONNX Runtime and falling back is off; the message names the package.
    /// </exception>
    public HfferBatchScorer CreateBatchScorer(HfferBatchScoringOptions? options = null)
    {
        options ??= new HfferBatchScoringOptions();
        options.Validate();
        bool fallback = options.FallbackToCpu ?? _device.FallbackToCpu;
        var request = options.GpuDeviceId is { } gpu
            ? new DeviceRequest(gpu, fallback, $"{nameof(HfferBatchScoringOptions)}.GpuDeviceId")
            : new DeviceRequest(_pipeline.GpuDeviceId, fallback, "The transformer's scoring GPU");
        return HfferBatchScorer.Create(_pipeline, ClassNames, _onnxModel, _priorOnnxModel, request, _environment,
            options);
    }

    /// <summary>Always true: the chain maps rows one by one.</summary>
    public bool IsRowToRowMapper => _scoring.IsRowToRowMapper;

    /// <summary>Writes the ONNX graph to <paramref name="path"/> (through a temporary file, then a rename).</summary>
    public void SaveOnnx(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllBytes(path, _onnxModel);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => _scoring.GetOutputSchema(inputSchema);

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => _scoring.GetRowToRowMapper(inputSchema);

    /// <inheritdoc />
    public IDataView Transform(IDataView input) => _scoring.Transform(input);

    /// <summary>Saves the inner chain of ML.NET components (what <c>Model.Save</c> calls).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => _scoring.Save(ctx);

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => (_scoring as IDisposable)?.Dispose();
}
