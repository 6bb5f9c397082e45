using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Tests;

/// <summary>Builds the user-facing pipeline the way the README shows it.</summary>
internal static class Pipelines
{
    /// <summary>Label key order deliberately not alphabetical, so a re-sorted class list would be caught.</summary>
    public static readonly string[] ShuffledClassOrder = ["surprise", "angry", "sad", "happy", "disgust", "neutral", "fear"];

    public static EstimatorChain<HfferTransformer> Hffer(MLContext ml, HfferOptions options) =>
        ml.Transforms.Conversion.MapValueToKey("Label", keyData: ClassNames(ml, ShuffledClassOrder))
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath"))
            .Append(ml.Transforms.Hffer(options));

    /// <summary>A single-column view of class names, for <c>MapValueToKey</c>'s key order.</summary>
    public static IDataView ClassNames(MLContext ml, params string[] names) =>
        ml.Data.LoadFromEnumerable(names.Select(name => new ClassName { Label = name }));

    /// <summary>Every <paramref name="step"/>-th image of the bundled training set (10 per class at step 4).</summary>
    public static IDataView TrainingSubset(MLContext ml, int step) =>
        ml.Data.LoadFromEnumerable(HfferDataCatalog.ReadImageFolder(TestData.Train).Where((_, i) => i % step == 0));

    /// <summary>The Score vectors of <paramref name="model"/> on a folder-reader view (paths and text labels).</summary>
    public static float[][] Scores(MLContext ml, ITransformer model, IDataView data)
    {
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        var images = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath").Fit(keyed);
        return model.Transform(images.Transform(keyed)).GetColumn<float[]>("Score").ToArray();
    }

    /// <summary>Asserts that <paramref name="model"/> gives every row of <paramref name="data"/> a probability vector.</summary>
    public static void AssertScoresEveryRow(MLContext ml, ITransformer model, IDataView data, int rows)
    {
        var scores = Scores(ml, model, data);
        Assert.Equal(rows, scores.Length);
        Assert.All(scores, s => Assert.Equal(1.0, s.Sum(), 4));
    }

    public static HfferOptions QuickOptions(int epochs = 1) => new()
    {
        Architecture = HfferArchitecture.Small,
        Epochs = epochs,
        BatchSize = 16,
        Seed = 3,
    };

    private sealed class ClassName
    {
        public string Label { get; set; } = "";
    }
}
