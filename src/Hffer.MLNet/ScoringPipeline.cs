using Hffer.MLNet.Data;
using Hffer.MLNet.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Image;

namespace Hffer.MLNet;

/// <summary>
/// Builds the scoring chain from ML.NET's own components only, so a saved model reloads without this assembly:
/// ResizeImages, ExtractPixels (planar RGB, 0-255), ApplyOnnxModel on the exported graph, then Hash + MapValue to
/// turn the graph's arg-max index into a key column carrying the class names. With an ONNX prior the image is also
/// resized to the prior's input size and a first ApplyOnnxModel runs the prior graph, whose feature map the second
/// one reads beside the pixels.
/// </summary>
/// <remarks>
/// ML.NET offers no public way to cast a number to a key type. The one-element int64 vector from the graph is
/// hashed into a scalar, and a lookup from each class's hash (computed here, checked distinct) to its name
/// produces the key column. Helper columns are dropped at the end.
/// </remarks>
internal sealed class ScoringPipeline
{
    private const string ResizedColumn = "HfferResizedImage";
    private const string PixelsColumn = "HfferPixels";
    private const string IndexColumn = "HfferPredictedIndex";
    private const string HashColumn = "HfferPredictedHash";
    private const string PriorResizedColumn = "HfferPriorImage";

    private readonly TransformsCatalog _catalog;
    private readonly HfferOptions _options;
    private readonly int _imageSize;
    private readonly int? _priorImageSize;
    private readonly int? _gpuDeviceId;

    /// <param name="catalog">Where the components come from.</param>
    /// <param name="options">Column names.</param>
    /// <param name="imageSize">The network's input side.</param>
    /// <param name="priorImageSize">The ONNX prior's input side; null when the prior is inside the network.</param>
    /// <param name="gpuDeviceId">The CUDA device the ONNX steps run on; null for the catalog context's.</param>
    public ScoringPipeline(TransformsCatalog catalog, HfferOptions options, int imageSize, int? priorImageSize,
        int? gpuDeviceId = null)
    {
        _catalog = catalog;
        _options = options;
        _imageSize = imageSize;
        _priorImageSize = priorImageSize;
        _gpuDeviceId = gpuDeviceId;
    }

    /// <summary>The image column the chain reads.</summary>
    public string ImageColumnName => _options.ImageColumnName;

    /// <summary>The CUDA device the ONNX steps run on; null for the catalog context's.</summary>
    public int? GpuDeviceId => _gpuDeviceId;

    /// <summary>This pipeline reading images from <paramref name="imageColumnName"/> instead, when given.</summary>
    public ScoringPipeline WithImageColumn(string? imageColumnName) =>
        imageColumnName is null || imageColumnName == _options.ImageColumnName
            ? this
            : new(_catalog, new HfferOptions
            {
                ImageColumnName = imageColumnName,
                ScoreColumnName = _options.ScoreColumnName,
                PredictedLabelColumnName = _options.PredictedLabelColumnName,
            }, _imageSize, _priorImageSize, _gpuDeviceId);

    /// <summary>Column holding the extracted pixels after <see cref="Preprocessing"/>.</summary>
    public ImageSetReader.PixelColumn Pixels => new(PixelsColumn, _imageSize);

    /// <summary>Column holding the ONNX prior's pixels after <see cref="Preprocessing"/>, when there is a prior.</summary>
    public ImageSetReader.PixelColumn? PriorPixels => _priorImageSize is { } size
        ? new(OnnxPriorGraph.PixelsInput, size)
        : null;

    /// <summary>The ONNX input and output names the chain expects.</summary>
    public OnnxExportNames ExportNames =>
        new(PixelsColumn, _options.ScoreColumnName, IndexColumn) { PriorMap = OnnxPriorGraph.MapOutput };

    /// <summary>Image resizing and pixel extraction, shared by training and scoring so both see the same pixels.</summary>
    public IEstimator<ITransformer> Preprocessing()
    {
        var pixels = ResizeAndExtract(ResizedColumn, PixelsColumn, _imageSize);
        return _priorImageSize is { } size
            ? pixels.Append(ResizeAndExtract(PriorResizedColumn, OnnxPriorGraph.PixelsInput, size))
            : pixels;
    }

    /// <summary>The whole scoring chain, fitted (its components learn nothing from <paramref name="input"/>).</summary>
    /// <param name="input">Data with the image column.</param>
    /// <param name="onnxModel">The exported network.</param>
    /// <param name="classNames">Class names in key order.</param>
    /// <param name="priorModel">The composed ONNX prior graph, when the network has one.</param>
    public ITransformer Build(IDataView input, byte[] onnxModel, IReadOnlyList<string> classNames,
        byte[]? priorModel)
    {
        var lookup = ClassHashes(classNames.Count)
            .Select((hash, index) => new KeyValuePair<uint, string>(hash, classNames[index]));

        var chain = Preprocessing();
        string[] networkInputs = [PixelsColumn];
        string[] helpers = [ResizedColumn, PixelsColumn, IndexColumn, HashColumn];
        if (priorModel is not null)
        {
            chain = chain.Append(_catalog.ApplyOnnxModel([OnnxPriorGraph.MapOutput], [OnnxPriorGraph.PixelsInput],
                new MemoryStream(priorModel, writable: false), _gpuDeviceId));
            networkInputs = [PixelsColumn, OnnxPriorGraph.MapOutput];
            helpers = [.. helpers, PriorResizedColumn, OnnxPriorGraph.PixelsInput, OnnxPriorGraph.MapOutput];
        }

        return chain
            .Append(_catalog.ApplyOnnxModel([_options.ScoreColumnName, IndexColumn], networkInputs,
                new MemoryStream(onnxModel, writable: false), _gpuDeviceId))
            .Append(_catalog.Conversion.Hash(HashOptions()))
            .Append(_catalog.Conversion.MapValue(_options.PredictedLabelColumnName, lookup, HashColumn,
                treatValuesAsKeyType: true))
            .Append(_catalog.DropColumns(helpers))
            .Fit(input);
    }

    private EstimatorChain<ImagePixelExtractingTransformer> ResizeAndExtract(string resized, string pixels, int size) =>
        _catalog.ResizeImages(resized, size, size, _options.ImageColumnName, ImageResizingEstimator.ResizingKind.Fill)
            .Append(_catalog.ExtractPixels(pixels, resized, ImagePixelExtractingEstimator.ColorBits.Rgb,
                ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false, offsetImage: 0f,
                scaleImage: 1f, outputAsFloatArray: true));

    private static HashingEstimator.ColumnOptions HashOptions() =>
        new(HashColumn, IndexColumn, numberOfBits: 31, combine: true);

    /// <summary>What the hash step yields for each class index, computed with the same hashing options.</summary>
    private static uint[] ClassHashes(int classCount)
    {
        var context = new MLContext(seed: 0);
        var rows = Enumerable.Range(0, classCount).Select(i => new IndexRow { Index = [i] });
        var data = context.Data.LoadFromEnumerable(rows);
        var hashed = context.Transforms.Conversion.Hash(HashOptions()).Fit(data).Transform(data);
        uint[] hashes = hashed.GetColumn<uint>(HashColumn).ToArray();

        if (hashes.Distinct().Count() != classCount)
            throw new InvalidOperationException("Two class indices hash to the same value; cannot build PredictedLabel.");
        return hashes;
    }

    private sealed class IndexRow
    {
        [ColumnName(IndexColumn)]
        [VectorType(1)]
        public long[] Index { get; set; } = [];
    }
}
