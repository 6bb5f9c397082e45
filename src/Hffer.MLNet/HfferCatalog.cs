using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Hffer.MLNet;

/// <summary>Adds HFFER to <see cref="MLContext.Transforms"/>.</summary>
public static class HfferCatalog
{
    /// <summary>
    /// Creates an estimator that trains HFFER facial-expression recognition on an image column and a key label.
    /// </summary>
    /// <param name="catalog">The transforms catalog of an <see cref="MLContext"/>.</param>
    /// <param name="labelColumnName">Key-typed label column; its key order becomes the order of the scores.</param>
    /// <param name="imageColumnName">Image column from <c>LoadImages</c>.</param>
    /// <param name="scoreColumnName">Output column of class probabilities.</param>
    /// <param name="predictedLabelColumnName">Output column of the predicted key.</param>
    /// <param name="preset">Network size.</param>
    /// <param name="epochs">Passes over the training data.</param>
    /// <param name="batchSize">Images per optimizer step.</param>
    /// <example>
    /// <code>
    /// var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    ///     .Append(ml.Transforms.LoadImages("Image", imageFolder, "ImagePath"))
    ///     .Append(ml.Transforms.Hffer("Label", "Image", epochs: 30));
    /// </code>
    /// </example>
    public static HfferEstimator Hffer(this TransformsCatalog catalog,
        string labelColumnName = "Label",
        string imageColumnName = "Image",
        string scoreColumnName = "Score",
        string predictedLabelColumnName = "PredictedLabel",
        HfferPreset preset = HfferPreset.Small,
        int epochs = 10,
        int batchSize = 32)
        => Hffer(catalog, Options(labelColumnName, imageColumnName, preset, epochs, batchSize, scoreColumnName,
            predictedLabelColumnName));

    /// <summary>Creates an HFFER estimator from a full set of options.</summary>
    /// <param name="catalog">The transforms catalog of an <see cref="MLContext"/>.</param>
    /// <param name="options">Training and column options; validated here.</param>
    public static HfferEstimator Hffer(this TransformsCatalog catalog, HfferOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new HfferEstimator(catalog, CatalogEnvironment.Of(catalog), options);
    }

    /// <summary>
    /// Creates the HFFER trainer where ML.NET lists multiclass trainers. It is the same estimator as
    /// <see cref="Hffer(TransformsCatalog, string, string, string, string, HfferPreset, int, int)"/>: it reads an
    /// image column (not a feature vector) and a key label, and writes <c>Score</c> and <c>PredictedLabel</c> as
    /// ML.NET's multiclass trainers do, so <c>MulticlassClassification.Evaluate</c> reads its output directly.
    /// </summary>
    /// <param name="catalog">The multiclass trainers catalog of an <see cref="MLContext"/>.</param>
    /// <param name="labelColumnName">Key-typed label column; its key order becomes the order of the scores.</param>
    /// <param name="imageColumnName">Image column from <c>LoadImages</c>.</param>
    /// <param name="preset">Network size.</param>
    /// <param name="epochs">Passes over the training data.</param>
    /// <param name="batchSize">Images per optimizer step.</param>
    /// <example>
    /// <code>
    /// var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    ///     .Append(ml.Transforms.LoadImages("Image", imageFolder, "ImagePath"))
    ///     .Append(ml.MulticlassClassification.Trainers.Hffer("Label", "Image", epochs: 30));
    /// </code>
    /// </example>
    public static HfferEstimator Hffer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = "Label",
        string imageColumnName = "Image",
        HfferPreset preset = HfferPreset.Small,
        int epochs = 10,
        int batchSize = 32)
        => Hffer(catalog, Options(labelColumnName, imageColumnName, preset, epochs, batchSize));

    /// <summary>Creates the HFFER trainer from a full set of options; the same estimator as the transforms one.</summary>
    /// <param name="catalog">The multiclass trainers catalog of an <see cref="MLContext"/>.</param>
    /// <param name="options">Training and column options; validated here.</param>
    public static HfferEstimator Hffer(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        HfferOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        var environment = CatalogEnvironment.Of(catalog);
        return new HfferEstimator(CatalogEnvironment.TransformsCatalogOf(environment), environment, options);
    }

    private static HfferOptions Options(string labelColumnName, string imageColumnName, HfferPreset preset,
        int epochs, int batchSize, string scoreColumnName = "Score", string predictedLabelColumnName = "PredictedLabel")
        => new()
        {
            LabelColumnName = labelColumnName,
            ImageColumnName = imageColumnName,
            ScoreColumnName = scoreColumnName,
            PredictedLabelColumnName = predictedLabelColumnName,
            Preset = preset,
            Epochs = epochs,
            BatchSize = batchSize,
        };
}
