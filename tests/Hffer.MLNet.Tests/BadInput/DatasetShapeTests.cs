using Hffer.MLNet.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Tests.BadInput;

/// <summary>Datasets of the wrong shape: one class, an empty class, labels at scoring time that training never saw.</summary>
[Collection("Torch")]
public class DatasetShapeTests
{
    [Fact]
    public void ASingleClassIsRefusedBeforeTraining()
    {
        var ml = new MLContext(1);
        var happy = HfferDataCatalog.ReadImageFolder(TestData.Train).Where(r => r.Label == "happy").Take(4);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", null, "ImagePath"))
            .Append(ml.Transforms.Hffer(Pipelines.QuickOptions()));

        var error = Assert.Throws<ArgumentException>(() => pipeline.Fit(ml.Data.LoadFromEnumerable(happy)));

        Assert.StartsWith("The label key of column 'Label' has 1 value(s); a classifier needs at least two classes.",
            error.Message);
    }

    [Fact]
    public void AClassWithoutTrainingImagesIsNamedInAWarningAndStillScored()
    {
        var ml = new MLContext(1);
        var warnings = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Source == "Hffer" && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning)
                lock (warnings)
                    warnings.Add(e.RawMessage);
        };
        var withoutFear = HfferDataCatalog.ReadImageFolder(TestData.Train)
            .Where((r, i) => r.Label != "fear" && i % 20 == 0);

        using var model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(ml.Data.LoadFromEnumerable(withoutFear));

        Assert.Contains(warnings, w => w.StartsWith("No training images for 'fear': the model will learn never to " +
            "predict it.", StringComparison.Ordinal));
        Assert.Equal(7, model.LastTransformer.ClassNames.Count);
    }

    [Fact]
    public void LabelsTrainingNeverSawAreScoredAndLeftOutOfEvaluation()
    {
        var ml = new MLContext(1);
        using var model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(Pipelines.TrainingSubset(ml, step: 20));
        var known = HfferDataCatalog.ReadImageFolder(TestData.Test).Where((_, i) => i % 35 == 0).ToArray();
        var unknown = known.Select(r => new ImageFolderRow { ImagePath = r.ImagePath, Label = "contempt" });
        var rows = ml.Data.LoadFromEnumerable(known.Concat(unknown));

        var scored = model.Transform(rows);
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var metrics = ml.MulticlassClassification.Evaluate(scored);

        Assert.Equal(2 * known.Length, scores.Length);
        Assert.All(scores, s => Assert.Equal(1.0, s.Sum(), 4));
        Assert.Equal(scores.Take(known.Length), scores.Skip(known.Length));
        Assert.Equal(known.Length, (int)metrics.ConfusionMatrix.Counts.Sum(row => row.Sum()));
    }
}
