using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Hffer.MLNet.Data;
using Hffer.MLNet.Devices;
using Hffer.MLNet.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Runtime;
using Microsoft.ML.Transforms.Image;

namespace Hffer.MLNet.Scoring;

/// <summary>
/// Scores many images with one ONNX Runtime call per batch, for bulk work. ML.NET's <c>Transform</c> runs the
/// exported graph once per row; this scorer decodes and resizes images with the same ML.NET components, gathers
/// <see cref="HfferBatchScoringOptions.BatchSize"/> of them, and runs the graph on the whole batch.
/// </summary>
/// <remarks>
/// <para>
/// Predictions come back lazily and in input order, so a call holds three batches of pixels at most whatever the
/// number of images; the scorer keeps finished calls' buffers for the next calls until it is disposed. Scores equal
/// the <c>Transform</c> path's (same pixels, same graph; tested to 1e-5), including for
/// partly corrupt files that ML.NET's image loader decodes as far as it can.
/// </para>
/// <para>
/// Use <c>Transform</c> inside ML.NET pipelines (<c>Evaluate</c>, <c>Model.Save</c>, prediction engines) and this
/// scorer for folders or streams of images: from the trained transformer
/// (<see cref="HfferTransformer.CreateBatchScorer"/>), or in another process from the graphs it saved
/// (<see cref="FromOnnx"/>). An ONNX prior whose graph has a fixed batch of one (the ResNet18 prior) runs image by
/// image inside each batch; the network still runs batched. Several threads may score at once. A file that cannot
/// be read stops the enumeration with an exception naming it (predictions already yielded stay valid), or with
/// <see cref="HfferBatchScoringOptions.SkipUnreadableImages"/> gets a prediction carrying the error in its place.
/// Dispose the scorer to release its sessions; disposing waits for a batch being scored, and scoring afterwards
/// throws <see cref="ObjectDisposedException"/>.
/// </para>
/// </remarks>
public sealed class HfferBatchScorer : IDisposable
{
    private readonly ScoringPipeline _pipeline;
    private readonly OnnxExportNames _names;
    private readonly IReadOnlyList<string> _classNames;
    private readonly string _imageColumn;
    private readonly InferenceSession _network;
    private readonly InferenceSession? _prior;
    private readonly bool _priorTakesBatches;
    private readonly int[] _priorMapDims;
    private readonly (string Ir50, string FrozenBranch)? _attention;
    private readonly bool _skipUnreadable;
    private readonly MLContext _context = new();
    private readonly ConcurrentBag<PixelBatch> _spareBatches = [];
    private readonly ReaderWriterLockSlim _lifetime = new();
    private bool _disposed;

    /// <summary>Takes ownership of the sessions.</summary>
    private HfferBatchScorer(ScoringPipeline pipeline, IReadOnlyList<string> classNames, InferenceSession network,
        InferenceSession? prior, int? gpuDeviceId, HfferBatchScoringOptions options, (string, string)? attention)
    {
        _pipeline = pipeline;
        _names = pipeline.ExportNames;
        _classNames = classNames;
        _imageColumn = pipeline.ImageColumnName;
        BatchSize = options.BatchSize;
        _skipUnreadable = options.SkipUnreadableImages;
        GpuDeviceId = gpuDeviceId;
        _network = network;
        _prior = prior;
        _attention = attention;
        _priorMapDims = [];
        if (prior is not null)
        {
            _priorTakesBatches = prior.InputMetadata[OnnxPriorGraph.PixelsInput].Dimensions[0] != 1;
            _priorMapDims = prior.OutputMetadata[OnnxPriorGraph.MapOutput].Dimensions[1..];
        }
    }

    /// <summary>Images per ONNX Runtime call.</summary>
    public int BatchSize { get; }

    /// <summary>The CUDA device the sessions run on; null for the CPU.</summary>
    public int? GpuDeviceId { get; }

    /// <summary>
    /// A scorer for the graphs a trained model saved with <see cref="HfferTransformer.SaveOnnx"/> (and, with an ONNX
    /// prior, <see cref="HfferTransformer.SavePriorOnnx"/>), for applications that load a model instead of
    /// training it: <c>Model.Load</c> returns ML.NET's own components, not an <see cref="HfferTransformer"/>.
    /// </summary>
    /// <param name="context">Supplies the default GPU settings and receives warnings through its log.</param>
    /// <param name="networkPath">The network graph from <c>SaveOnnx</c>.</param>
    /// <param name="classNames">Class names in score order (<see cref="HfferTransformer.ClassNames"/>).</param>
    /// <param name="priorPath">The prior graph from <c>SavePriorOnnx</c>, when the model was trained with one.</param>
    /// <param name="options">Batch size, device, threads and the image column name.</param>
    /// <exception cref="FileNotFoundException">A graph file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is not a graph this package exported.</exception>
    /// <exception cref="ArgumentException">
    /// The class count differs from the graph's, or the prior graph is missing or not needed.
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// The GPU asked for cannot be used by ONNX Runtime and falling back is off; the message names the package.
    /// </exception>
    public static HfferBatchScorer FromOnnx(MLContext context, string networkPath, IReadOnlyList<string> classNames,
        string? priorPath = null, HfferBatchScoringOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrEmpty(networkPath);
        ArgumentNullException.ThrowIfNull(classNames);
        options ??= new HfferBatchScoringOptions();
        options.Validate();
        var (networkModel, attention) = WithAttention(File.ReadAllBytes(networkPath), networkPath, options);
        byte[]? priorModel = priorPath is null ? null : File.ReadAllBytes(priorPath);
        var environment = (IHostEnvironment)context;
        int? gpu = ResolveDevice(DeviceRequest.Of(options.GpuDeviceId, options.FallbackToCpu, environment,
            nameof(HfferBatchScoringOptions)), environment);

        var names = new ScoringPipeline(context.Transforms, new HfferOptions(), 1, null).ExportNames;
        var network = SavedGraph.Open(networkModel, networkPath, gpu, options.IntraOpThreads);
        InferenceSession? prior = null;
        try
        {
            var (imageSize, scoreName, classCount, needsPrior) = SavedGraph.DescribeNetwork(network, names, networkPath);
            if (classCount != classNames.Count)
                throw new ArgumentException($"{networkPath} scores {classCount} classes, but {classNames.Count} " +
                    "class names were given.", nameof(classNames));
            if (needsPrior != (priorModel is not null))
                throw new ArgumentException(needsPrior
                    ? $"{networkPath} was trained with an ONNX prior; pass the graph SavePriorOnnx wrote as priorPath."
                    : $"{networkPath} has its prior inside; it takes no prior graph.", nameof(priorPath));
            prior = priorModel is null ? null : SavedGraph.Open(priorModel, priorPath!, gpu, options.IntraOpThreads);
            int? priorSize = prior is null ? null : SavedGraph.PriorInputSize(prior, priorPath!);

            var columns = new HfferOptions
            {
                ImageColumnName = options.ImageColumnName ?? new HfferOptions().ImageColumnName,
                ScoreColumnName = scoreName,
            };
            var pipeline = new ScoringPipeline(context.Transforms, columns, imageSize, priorSize);
            options.Validate(Math.Max(imageSize, priorSize ?? 0));
            return new HfferBatchScorer(pipeline, classNames, network, prior, gpu, options, attention);
        }
        catch
        {
            network.Dispose();
            prior?.Dispose();
            throw;
        }
    }

    /// <summary>Checks the options and the device, then opens the sessions.</summary>
    internal static HfferBatchScorer Create(ScoringPipeline pipeline, IReadOnlyList<string> classNames,
        byte[] network, byte[]? prior, DeviceRequest device, IHostEnvironment environment,
        HfferBatchScoringOptions options)
    {
        options.Validate(Math.Max(pipeline.Pixels.ImageSize, pipeline.PriorPixels?.ImageSize ?? 0));
        int? gpu = ResolveDevice(device, environment);
        var (networkModel, attention) = WithAttention(network, "The trained network's graph", options);
        var networkSession = ScoringSessions.Open(networkModel, gpu, options.IntraOpThreads);
        try
        {
            var priorSession = prior is null ? null : ScoringSessions.Open(prior, gpu, options.IntraOpThreads);
            return new HfferBatchScorer(pipeline.WithImageColumn(options.ImageColumnName), classNames, networkSession,
                priorSession, gpu, options, attention);
        }
        catch
        {
            networkSession.Dispose();
            throw;
        }
    }

    /// <summary>The network graph with its attention weights as outputs, when the options ask for them.</summary>
    private static (byte[] Model, (string, string)? Attention) WithAttention(byte[] model, string source,
        HfferBatchScoringOptions options)
    {
        if (!options.IncludeAttentionMaps)
            return (model, null);
        var (exposed, ir50, frozenBranch) = AttentionOutputs.Expose(model, source);
        return (exposed, (ir50, frozenBranch));
    }

    /// <summary>The CUDA device ONNX Runtime can score on, or null for the CPU, warning through the log.</summary>
    private static int? ResolveDevice(DeviceRequest device, IHostEnvironment environment)
    {
        using var channel = environment.Start("Hffer");
        return DeviceSelection.Resolve(device, needsTraining: false,
            message => channel.Warning(MessageSensitivity.None, message)).ScoringGpuDeviceId;
    }

    /// <summary>
    /// Scores the images in <paramref name="images"/>' image column (the estimator's
    /// <see cref="HfferOptions.ImageColumnName"/>, from <c>LoadImages</c>), one prediction per row, in row order.
    /// </summary>
    /// <exception cref="ArgumentException">The data has no image column of that name, or it holds no images.</exception>
    /// <exception cref="InvalidDataException">While enumerating: an image could not be read (the file is named).</exception>
    /// <exception cref="OperationCanceledException">
    /// While enumerating: <paramref name="cancellationToken"/> was cancelled (checked before every prediction).
    /// </exception>
    /// <exception cref="ObjectDisposedException">The scorer was disposed.</exception>
    public IEnumerable<HfferPrediction> Score(IDataView images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var column = images.Schema.GetColumnOrNull(_imageColumn) ?? throw new ArgumentException(
            $"The data has no image column '{_imageColumn}'.", nameof(images));
        if (column.Type is not ImageDataViewType)
            throw new ArgumentException($"Column '{_imageColumn}' must hold images (use LoadImages).", nameof(images));

        return ScoreImages(images, lastPath: null, cancellationToken);
    }

    private IEnumerable<HfferPrediction> ScoreImages(IDataView images, LastPath? lastPath,
        CancellationToken cancellationToken)
    {
        var pixels = _pipeline.Preprocessing().Fit(images).Transform(images);
        return Batches(images, pixels, lastPath, cancellationToken);
    }

    /// <summary>
    /// Loads and scores image files, one prediction per path, in order. Filter the paths to image files
    /// (<see cref="HfferDataCatalog.ImageExtensions"/>): any other file stops the enumeration, unless
    /// <see cref="HfferBatchScoringOptions.SkipUnreadableImages"/> is set.
    /// </summary>
    /// <exception cref="InvalidDataException">While enumerating: a file could not be read (the file is named).</exception>
    /// <exception cref="ArgumentException">While enumerating: a path is null, empty or blank (its index is named).</exception>
    /// <exception cref="OperationCanceledException">
    /// While enumerating: <paramref name="cancellationToken"/> was cancelled (checked before every prediction).
    /// </exception>
    /// <exception cref="ObjectDisposedException">The scorer was disposed.</exception>
    public IEnumerable<HfferPrediction> ScoreFiles(IEnumerable<string> imagePaths,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var lastPath = new LastPath();
        var paths = _context.Data.LoadFromEnumerable(imagePaths.Select((path, index) => new ImagePathRow
        {
            // ML.NET's image loader would score an empty path as a blank image, or fail naming nothing.
            Path = string.IsNullOrWhiteSpace(path)
                ? throw new ArgumentException($"Image path {index} is empty.", nameof(imagePaths))
                : lastPath.Path = path,
        }));
        var images = _context.Transforms.LoadImages(_imageColumn, imageFolder: null, nameof(ImagePathRow.Path))
            .Fit(paths).Transform(paths);
        return ScoreImages(images, lastPath, cancellationToken);
    }

    /// <summary>Releases the ONNX Runtime sessions, after any batch being scored.</summary>
    public void Dispose()
    {
        _lifetime.EnterWriteLock();
        try
        {
            if (_disposed)
                return;
            _disposed = true;
            _network.Dispose();
            _prior?.Dispose();
            _spareBatches.Clear();
        }
        finally
        {
            _lifetime.ExitWriteLock();
        }
    }

    /// <summary>
    /// Decodes and extracts the next batch on a worker thread while the current one is scored, so image decoding
    /// overlaps inference.
    /// </summary>
    private IEnumerable<HfferPrediction> Batches(IDataView source, IDataView preprocessed, LastPath? lastPath,
        CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var free = new PixelBatchPool(_spareBatches,
            () => new PixelBatch(_pipeline.Pixels.ImageSize, _pipeline.PriorPixels?.ImageSize, BatchSize));
        using var filled = new BlockingCollection<PixelBatch>(boundedCapacity: 1);

        var producer = Task.Run(() => Fill(source, preprocessed, lastPath, free, filled, stop.Token), stop.Token);
        try
        {
            foreach (var batch in filled.GetConsumingEnumerable(cancellationToken))
            {
                var predictions = RunGuarded(batch);
                free.Return(batch);
                foreach (var prediction in predictions)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return prediction;
                }
            }

            // The worker stops on the caller's cancellation too; the caller's token is the one to report.
            cancellationToken.ThrowIfCancellationRequested();

            // The worker's own failure (an unreadable image, say) surfaces here, unwrapped.
            producer.GetAwaiter().GetResult();
        }
        finally
        {
            // A caller that stops enumerating early, or fails, must not leave the worker holding the cursor.
            stop.Cancel();
            try
            {
                producer.Wait(CancellationToken.None);
            }
            catch (AggregateException)
            {
            }
        }
    }

    private void Fill(IDataView source, IDataView preprocessed, LastPath? lastPath, PixelBatchPool free,
        BlockingCollection<PixelBatch> filled, CancellationToken cancellationToken)
    {
        try
        {
            FillBatches(preprocessed, lastPath, free, filled, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A path ScoreFiles refused is the caller's error, whatever ML.NET's cursor wrapped it in.
            if (ImageFailureDiagnosis.Innermost(e) is ArgumentException { ParamName: "imagePaths" } refused)
                ExceptionDispatchInfo.Throw(refused);

            // ML.NET's decoding error names neither the row nor the file; find the file before giving up.
            throw ImageFailureDiagnosis.Explain(source, e, "scored");
        }
        finally
        {
            filled.CompleteAdding();
        }
    }

    private void FillBatches(IDataView preprocessed, LastPath? lastPath, PixelBatchPool free,
        BlockingCollection<PixelBatch> filled, CancellationToken cancellationToken)
    {
        var pixelsColumn = preprocessed.Schema[_pipeline.Pixels.Name];
        var priorColumn = _pipeline.PriorPixels is { } prior
            ? preprocessed.Schema[prior.Name]
            : (DataViewSchema.Column?)null;
        DataViewSchema.Column[] columns = priorColumn is { } c ? [pixelsColumn, c] : [pixelsColumn];

        // ML.NET's parallel cursor stops for good at the first image it cannot decode; a set of one cursor runs on
        // this thread and fails in that image's own getter, so skipping can go on to the next row.
        using var cursor = _skipUnreadable ? preprocessed.GetRowCursorSet(columns, 1)[0]
            : preprocessed.GetRowCursor(columns);
        var readPixels = cursor.GetGetter<VBuffer<float>>(pixelsColumn);
        var readPriorPixels = priorColumn is { } p ? cursor.GetGetter<VBuffer<float>>(p) : null;

        VBuffer<float> row = default, priorRow = default;
        PixelBatch? batch = null;
        long position = -1;
        while (cursor.MoveNext())
        {
            position++;
            cancellationToken.ThrowIfCancellationRequested();
            batch ??= free.Rent(cancellationToken);
            try
            {
                readPixels(ref row);
                readPriorPixels?.Invoke(ref priorRow);
                batch.AddPixels(row);
                if (readPriorPixels is not null)
                    batch.AddPriorPixels(priorRow);
            }
            catch (Exception e) when (_skipUnreadable && e is not OperationCanceledException
                && ImageFailureDiagnosis.Innermost(e) is not ArgumentException { ParamName: "imagePaths" })
            {
                string reason = ImageFailureDiagnosis.Innermost(e).Message;
                batch.AddUnreadable(lastPath?.Path is { } path
                    ? $"Image {position}, '{path}', could not be read ({reason})."
                    : $"Row {position} of the scored data could not be read ({reason}).");
            }

            if (++batch.Count == BatchSize)
            {
                filled.Add(batch, cancellationToken);
                batch = null;
            }
        }
        if (batch is not null)
            filled.Add(batch, cancellationToken);
    }

    /// <summary>Scores a batch unless the scorer is disposed; <see cref="Dispose"/> waits for it.</summary>
    private HfferPrediction[] RunGuarded(PixelBatch batch)
    {
        _lifetime.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Run(batch);
        }
        finally
        {
            _lifetime.ExitReadLock();
        }
    }

    private HfferPrediction[] Run(PixelBatch batch)
    {
        int count = batch.Count, side = _pipeline.Pixels.ImageSize;
        using var pixels = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            batch.Pixels.AsMemory(0, count * batch.PixelLength), [count, 3, side, side]);
        using var map = _prior is null ? null : PriorMap(batch);
        string[] inputNames = map is null ? [_names.Pixels] : [_names.Pixels, _names.PriorMap!];
        OrtValue[] inputs = map is null ? [pixels] : [pixels, map];

        string[] outputNames = _attention is var (ir50, frozenBranch)
            ? [_names.Probabilities, _names.PredictedIndex, ir50, frozenBranch]
            : [_names.Probabilities, _names.PredictedIndex];
        using var run = new RunOptions();
        using var outputs = _network.Run(run, inputNames, inputs, outputNames);
        var scores = outputs[0].GetTensorDataAsSpan<float>();
        var indices = outputs[1].GetTensorDataAsSpan<long>();
        (int Grid, float[][] Maps)? irMaps = _attention is null ? null : AttentionMaps(outputs[2], count);
        (int Grid, float[][] Maps)? frozenMaps = _attention is null ? null : AttentionMaps(outputs[3], count);
        int classes = _classNames.Count;
        var predictions = new HfferPrediction[count];
        for (int i = 0; i < count; i++)
        {
            int index = (int)indices[i];
            predictions[i] = batch.Unreadable.TryGetValue(i, out string? reason)
                ? HfferPrediction.Unreadable(reason)
                : new(_classNames[index], index, scores.Slice(i * classes, classes).ToArray())
                {
                    AttentionMaps = irMaps is null ? null : new HfferAttentionMaps(irMaps.Value.Grid,
                        irMaps.Value.Maps[i], frozenMaps!.Value.Maps[i]),
                };
        }
        return predictions;
    }

    private static (int Grid, float[][] Maps) AttentionMaps(OrtValue weights, int count)
    {
        long[] shape = weights.GetTensorTypeAndShape().Shape;
        int heads = (int)shape[1], queries = (int)shape[2], keys = (int)shape[3];
        return ((int)Math.Round(Math.Sqrt(keys)),
            HfferAttentionMaps.Average(weights.GetTensorDataAsSpan<float>(), count, heads, queries, keys));
    }

    /// <summary>The prior's feature maps for the batch, in one call or one per image when its graph takes one.</summary>
    private OrtValue PriorMap(PixelBatch batch)
    {
        int count = batch.Count, side = _pipeline.PriorPixels!.Value.ImageSize;
        long mapLength = _priorMapDims.Aggregate(1L, (a, b) => a * b);
        var map = new float[count * mapLength];
        int calls = _priorTakesBatches ? 1 : count, perCall = _priorTakesBatches ? count : 1;
        for (int call = 0; call < calls; call++)
        {
            using var pixels = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                batch.PriorPixels!.AsMemory(call * batch.PriorPixelLength, perCall * batch.PriorPixelLength),
                [perCall, 3, side, side]);
            using var run = new RunOptions();
            using var outputs = _prior!.Run(run, [OnnxPriorGraph.PixelsInput], [pixels], [OnnxPriorGraph.MapOutput]);
            outputs[0].GetTensorDataAsSpan<float>().CopyTo(map.AsSpan((int)(call * mapLength)));
        }
        return OrtValue.CreateTensorValueFromMemory(map, [count, .. _priorMapDims.Select(d => (long)d)]);
    }

    private sealed class ImagePathRow
    {
        public string Path { get; set; } = "";
    }

    /// <summary>
    /// The path <see cref="ScoreFiles"/> handed to ML.NET last. With the single-thread cursor used when skipping, that
    /// is the path of the row being decoded, so an unreadable file can be named without reading the paths again.
    /// </summary>
    private sealed class LastPath
    {
        public string? Path { get; set; }
    }
}
