using Hffer.MLNet.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Image;

namespace Hffer.MLNet;

/// <summary>
/// Builds the scoring chain from ML.NET's own components only, so a saved model reloads without this assembly:
/// ResizeImages, ExtractPixels (planar RGB, 0-255), ApplyOnnxModel on the exported graph, then Hash + MapValue to
/// turn the graph's arg-max index into a key column carrying the class names.
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

    private readonly TransformsCatalog _catalog;
    private readonly HfferOptions _options;
    private readonly int _imageSize;

    public ScoringPipeline(TransformsCatalog catalog, HfferOptions options, int imageSize)
    {
        _catalog = catalog;
        _options = options;
        _imageSize = imageSize;
    }

    /// <summary>Column holding the extracted pixels after <see cref="Preprocessing"/>.</summary>
    public static string Pixels => PixelsColumn;

    /// <summary>The ONNX input and output names the chain expects.</summary>
    public OnnxExportNames ExportNames => new(PixelsColumn, _options.ScoreColumnName, IndexColumn);

    /// <summary>Image resizing and pixel extraction, shared by training and scoring so both see the same pixels.</summary>
    public IEstimator<ITransformer> Preprocessing() =>
        _catalog.ResizeImages(ResizedColumn, _imageSize, _imageSize, _options.ImageColumnName,
                ImageResizingEstimator.ResizingKind.Fill)
            .Append(_catalog.ExtractPixels(PixelsColumn, ResizedColumn, ImagePixelExtractingEstimator.ColorBits.Rgb,
                ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false, offsetImage: 0f,
                scaleImage: 1f, outputAsFloatArray: true));

    /// <summary>The whole scoring chain, fitted (its components learn nothing from <paramref name="input"/>).</summary>
    public ITransformer Build(IDataView input, byte[] onnxModel, IReadOnlyList<string> classNames)
    {
        var lookup = ClassHashes(classNames.Count)
            .Select((hash, index) => new KeyValuePair<uint, string>(hash, classNames[index]));

        var chain = Preprocessing()
            .Append(_catalog.ApplyOnnxModel([_options.ScoreColumnName, IndexColumn], [PixelsColumn],
                new MemoryStream(onnxModel, writable: false)))
            .Append(_catalog.Conversion.Hash(HashOptions()))
            .Append(_catalog.Conversion.MapValue(_options.PredictedLabelColumnName, lookup, HashColumn,
                treatValuesAsKeyType: true))
            .Append(_catalog.DropColumns(ResizedColumn, PixelsColumn, IndexColumn, HashColumn));
        return chain.Fit(input);
    }

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
