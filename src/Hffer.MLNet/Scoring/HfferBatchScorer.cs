using System.Collections.Concurrent;
using Hffer.MLNet.Data;
using Hffer.MLNet.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Image;

namespace Hffer.MLNet.Scoring;

/// <summary>
/// Scores many images with one ONNX Runtime call per batch, for bulk work. ML.NET's <c>Transform</c> runs the
/// exported graph once per row; this scorer decodes and resizes images with the same ML.NET components, gathers
/// <see cref="HfferBatchScoringOptions.BatchSize"/> of them, and runs the graph on the whole batch.
/// </summary>
/// <remarks>
/// <para>
/// Predictions come back lazily and in input order, so memory stays at three batches at most whatever the number
/// of images. Scores equal the <c>Transform</c> path's (same pixels, same graph; tested to 1e-5).
/// </para>
/// <para>
/// Use <c>Transform</c> inside ML.NET pipelines (<c>Evaluate</c>, <c>Model.Save</c>, prediction engines) and this
/// scorer for folders or streams of images. An ONNX prior whose graph has a fixed batch of one (the ResNet18 prior)
/// runs image by image inside each batch; the network still runs batched. Several threads may call
/// <see cref="Score"/> at once. Dispose the scorer to release its sessions.
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
    private readonly MLContext _context = new();

    internal HfferBatchScorer(ScoringPipeline pipeline, IReadOnlyList<string> classNames, byte[] network,
        byte[]? prior, int? gpuDeviceId, HfferBatchScoringOptions options)
    {
        _pipeline = pipeline;
        _names = pipeline.ExportNames;
        _classNames = classNames;
        _imageColumn = pipeline.ImageColumnName;
        BatchSize = options.BatchSize;
        GpuDeviceId = gpuDeviceId;
        _network = ScoringSessions.Open(network, gpuDeviceId, options.IntraOpThreads);
        _priorMapDims = [];
        if (prior is null)
            return;

        try
        {
            _prior = ScoringSessions.Open(prior, gpuDeviceId, options.IntraOpThreads);
            _priorTakesBatches = _prior.InputMetadata[OnnxPriorGraph.PixelsInput].Dimensions[0] != 1;
            _priorMapDims = _prior.OutputMetadata[OnnxPriorGraph.MapOutput].Dimensions[1..];
        }
        catch
        {
            _network.Dispose();
            throw;
        }
    }

    /// <summary>Images per ONNX Runtime call.</summary>
    public int BatchSize { get; }

    /// <summary>The CUDA device the sessions run on; null for the CPU.</summary>
    public int? GpuDeviceId { get; }

    /// <summary>
    /// Scores the images in <paramref name="images"/>' image column (the estimator's
    /// <see cref="HfferOptions.ImageColumnName"/>, from <c>LoadImages</c>), one prediction per row, in row order.
    /// </summary>
    /// <exception cref="ArgumentException">The data has no image column of that name, or it holds no images.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between batches.</exception>
    public IEnumerable<HfferPrediction> Score(IDataView images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var column = images.Schema.GetColumnOrNull(_imageColumn) ?? throw new ArgumentException(
            $"The data has no image column '{_imageColumn}'.", nameof(images));
        if (column.Type is not ImageDataViewType)
            throw new ArgumentException($"Column '{_imageColumn}' must hold images (use LoadImages).", nameof(images));

        var pixels = _pipeline.Preprocessing().Fit(images).Transform(images);
        return Batches(images, pixels, cancellationToken);
    }

    /// <summary>Loads and scores image files, one prediction per path, in order.</summary>
    /// <exception cref="OperationCanceledException">Cancelled between batches.</exception>
    public IEnumerable<HfferPrediction> ScoreFiles(IEnumerable<string> imagePaths,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePaths);
        var paths = _context.Data.LoadFromEnumerable(imagePaths.Select(path => new ImagePathRow { Path = path }));
        var images = _context.Transforms.LoadImages(_imageColumn, imageFolder: null, nameof(ImagePathRow.Path))
            .Fit(paths).Transform(paths);
        return Score(images, cancellationToken);
    }

    /// <summary>Releases the ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        _network.Dispose();
        _prior?.Dispose();
    }

    /// <summary>
    /// Decodes and extracts the next batch on a worker thread while the current one is scored, so image decoding
    /// overlaps inference. Three batch buffers circulate: one filling, one waiting, one being scored.
    /// </summary>
    private IEnumerable<HfferPrediction> Batches(IDataView source, IDataView preprocessed,
        CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var free = new BufferPool(
            () => new PixelBatch(_pipeline.Pixels.ImageSize, _pipeline.PriorPixels?.ImageSize, BatchSize));
        using var filled = new BlockingCollection<PixelBatch>(boundedCapacity: 1);

        var producer = Task.Run(() => Fill(source, preprocessed, free, filled, stop.Token), stop.Token);
        try
        {
            foreach (var batch in filled.GetConsumingEnumerable(stop.Token))
            {
                var predictions = Run(batch);
                free.Return(batch);
                foreach (var prediction in predictions)
                    yield return prediction;
            }

            // The producer's own failure (an unreadable image, say) surfaces here, unwrapped.
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

    private void Fill(IDataView source, IDataView preprocessed, BufferPool free,
        BlockingCollection<PixelBatch> filled, CancellationToken cancellationToken)
    {
        try
        {
            FillBatches(preprocessed, free, filled, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // ML.NET's decoding error names neither the row nor the file; find the file before giving up.
            throw ImageFailureDiagnosis.Explain(source, e, "scored");
        }
        finally
        {
            filled.CompleteAdding();
        }
    }

    private void FillBatches(IDataView preprocessed, BufferPool free,
        BlockingCollection<PixelBatch> filled, CancellationToken cancellationToken)
    {
        var pixelsColumn = preprocessed.Schema[_pipeline.Pixels.Name];
        var priorColumn = _pipeline.PriorPixels is { } prior
            ? preprocessed.Schema[prior.Name]
            : (DataViewSchema.Column?)null;
        using var cursor = preprocessed.GetRowCursor(priorColumn is { } c ? [pixelsColumn, c] : [pixelsColumn]);
        var readPixels = cursor.GetGetter<VBuffer<float>>(pixelsColumn);
        var readPriorPixels = priorColumn is { } p ? cursor.GetGetter<VBuffer<float>>(p) : null;

        VBuffer<float> row = default;
        PixelBatch? batch = null;
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            batch ??= free.Rent(cancellationToken);
            readPixels(ref row);
            batch.AddPixels(row);
            if (readPriorPixels is not null)
            {
                readPriorPixels(ref row);
                batch.AddPriorPixels(row);
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

    private HfferPrediction[] Run(PixelBatch batch)
    {
        int count = batch.Count, side = _pipeline.Pixels.ImageSize;
        using var pixels = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            batch.Pixels.AsMemory(0, count * batch.PixelLength), [count, 3, side, side]);
        using var map = _prior is null ? null : PriorMap(batch);
        string[] inputNames = map is null ? [_names.Pixels] : [_names.Pixels, _names.PriorMap!];
        OrtValue[] inputs = map is null ? [pixels] : [pixels, map];

        using var run = new RunOptions();
        using var outputs = _network.Run(run, inputNames, inputs, [_names.Probabilities, _names.PredictedIndex]);
        var scores = outputs[0].GetTensorDataAsSpan<float>();
        var indices = outputs[1].GetTensorDataAsSpan<long>();
        int classes = _classNames.Count;
        var predictions = new HfferPrediction[count];
        for (int i = 0; i < count; i++)
        {
            int index = (int)indices[i];
            predictions[i] = new(_classNames[index], index, scores.Slice(i * classes, classes).ToArray());
        }
        return predictions;
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

    /// <summary>
    /// At most three batch buffers, made only when needed (one batch of images needs one buffer); renting, which
    /// only the filling thread does, blocks while all three are in use.
    /// </summary>
    private sealed class BufferPool(Func<PixelBatch> create) : IDisposable
    {
        private const int Capacity = 3;

        private readonly BlockingCollection<PixelBatch> _returned = new();
        private int _created;

        /// <summary>An empty batch buffer.</summary>
        public PixelBatch Rent(CancellationToken cancellationToken)
        {
            if (!_returned.TryTake(out var batch))
            {
                if (_created < Capacity)
                {
                    _created++;
                    return create();
                }
                batch = _returned.Take(cancellationToken);
            }
            batch.Count = 0;
            return batch;
        }

        public void Return(PixelBatch batch) => _returned.Add(batch);

        public void Dispose() => _returned.Dispose();
    }

    /// <summary>Pixel buffers for one batch, reused from batch to batch.</summary>
    private sealed class PixelBatch(int side, int? priorSide, int capacity)
    {
        public int PixelLength { get; } = 3 * side * side;
        public int PriorPixelLength { get; } = priorSide is { } s ? 3 * s * s : 0;
        public float[] Pixels { get; } = new float[capacity * 3 * side * side];
        public float[]? PriorPixels { get; } = priorSide is { } s ? new float[capacity * 3 * s * s] : null;
        public int Count { get; set; }

        public void AddPixels(VBuffer<float> row) => Copy(row, Pixels, PixelLength);

        public void AddPriorPixels(VBuffer<float> row) => Copy(row, PriorPixels!, PriorPixelLength);

        private void Copy(VBuffer<float> row, float[] destination, int length)
        {
            var target = destination.AsSpan(Count * length, length);
            if (row.IsDense)
                row.GetValues().CopyTo(target);
            else
                row.DenseValues().ToArray().CopyTo(target);
        }
    }

    private sealed class ImagePathRow
    {
        public string Path { get; set; } = "";
    }
}
