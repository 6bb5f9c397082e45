using Hffer.MLNet.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Tests;

/// <summary>The trainers-catalog entry point is the transforms one under another name.</summary>
[Collection("Torch")]
public class HfferCatalogTests
{
    [Fact]
    public void MulticlassTrainerTrainsTheSameModelAndLogsThroughTheContext()
    {
        var viaTransforms = new MLContext(1);
        var viaTrainers = new MLContext(1);
        var messages = new List<string>();
        viaTrainers.Log += (_, e) =>
        {
            if (e.Source == "Hffer")
                lock (messages)
                    messages.Add(e.RawMessage);
        };
        var keys = viaTrainers.Data.LoadClassNames(Pipelines.ShuffledClassOrder);
        var trainerPipeline = viaTrainers.Transforms.Conversion.MapValueToKey("Label", keyData: keys)
            .Append(viaTrainers.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath"))
            .Append(viaTrainers.MulticlassClassification.Trainers.Hffer(Pipelines.QuickOptions()));

        using var expected = Pipelines.Hffer(viaTransforms, Pipelines.QuickOptions())
            .Fit(Pipelines.TrainingSubset(viaTransforms, step: 20));
        using var actual = trainerPipeline.Fit(Pipelines.TrainingSubset(viaTrainers, step: 20));

        var test = Pipelines.TrainingSubset(viaTrainers, step: 25);
        double difference = FloatComparison.MaxAbsDifference(
            expected.Transform(test).GetColumn<float[]>("Score").SelectMany(s => s).ToArray(),
            actual.Transform(test).GetColumn<float[]>("Score").SelectMany(s => s).ToArray());
        Assert.True(difference <= 1e-5, $"max |diff| = {difference}");
        Assert.Equal(Pipelines.ShuffledClassOrder, actual.LastTransformer.ClassNames);
        Assert.Contains(messages, m => m.StartsWith("epoch", StringComparison.Ordinal));
        var metrics = viaTrainers.MulticlassClassification.Evaluate(actual.Transform(test));
        Assert.Equal(Pipelines.ShuffledClassOrder.Length, metrics.ConfusionMatrix.NumberOfClasses);
        Assert.Equal(test.GetColumn<string>("Label").Count(),
            (int)metrics.ConfusionMatrix.Counts.Sum(row => row.Sum()));
    }
}
