using System.Reflection;
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
        => Hffer(catalog, new HfferOptions
        {
            LabelColumnName = labelColumnName,
            ImageColumnName = imageColumnName,
            ScoreColumnName = scoreColumnName,
            PredictedLabelColumnName = predictedLabelColumnName,
            Preset = preset,
            Epochs = epochs,
            BatchSize = batchSize,
        });

    /// <summary>Creates an HFFER estimator from a full set of options.</summary>
    /// <param name="catalog">The transforms catalog of an <see cref="MLContext"/>.</param>
    /// <param name="options">Training and column options; validated here.</param>
    public static HfferEstimator Hffer(this TransformsCatalog catalog, HfferOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        return new HfferEstimator(catalog, EnvironmentOf(catalog), options);
    }

    // ML.NET keeps a catalog's environment internal. The environment carries the context's log, so it is read here;
    // if a future ML.NET renames the field, messages go to a fresh environment instead of failing the pipeline.
    private static IHostEnvironment EnvironmentOf(TransformsCatalog catalog)
    {
        var field = typeof(TransformsCatalog).GetField("_env", BindingFlags.Instance | BindingFlags.NonPublic);
        return field?.GetValue(catalog) as IHostEnvironment ?? new MLContext();
    }
}
