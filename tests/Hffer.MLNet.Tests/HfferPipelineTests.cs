using System.Diagnostics;
using System.Globalization;
using Hffer.MLNet.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Tests;

/// <summary>Trains once on the bundled images and checks what users do with the result.</summary>
public sealed class TrainedModelFixture : IDisposable
{
    public TrainedModelFixture()
    {
        Context = new MLContext(seed: 1);
        Context.Log += (_, e) =>
        {
            if (e.Source == "Hffer")
                Messages.Add(e.RawMessage);
        };
        Train = Context.Data.LoadImageFolder(TestData.Train);
        Test = Context.Data.LoadImageFolder(TestData.Test);
        Model = Pipelines.Hffer(Context, Pipelines.QuickOptions(epochs: 2)).Fit(Train);
    }

    public MLContext Context { get; }

    /// <summary>What training wrote to <see cref="MLContext.Log"/> under the "Hffer" source.</summary>
    public List<string> Messages { get; } = [];

    public IDataView Train { get; }

    public IDataView Test { get; }

    public TransformerChain<HfferTransformer> Model { get; }

    public HfferTransformer Hffer => Model.LastTransformer;

    public void Dispose() => Hffer.Dispose();
}

public class HfferPipelineTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void ScoreSlotsAndPredictedLabelFollowTheLabelKeyOrder()
    {
        var scored = fixture.Model.Transform(fixture.Test);
        var named = fixture.Context.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel")
            .Fit(scored).Transform(scored);

        var scores = named.GetColumn<float[]>("Score").ToArray();
        var predicted = named.GetColumn<ReadOnlyMemory<char>>("PredictedName").Select(n => n.ToString()).ToArray();

        Assert.Equal(Pipelines.ShuffledClassOrder, fixture.Hffer.ClassNames);
        Assert.Equal(140, scores.Length);
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.Equal(7, scores[i].Length);
            Assert.Equal(1.0, scores[i].Sum(), 4);
            Assert.Equal(Pipelines.ShuffledClassOrder[Array.IndexOf(scores[i], scores[i].Max())], predicted[i]);
        }
        Assert.True(predicted.Distinct().Count() > 1, "a trained model should not predict one class for everything");
    }

    [Fact]
    public void PredictedLabelIsTheLabelsKeyTypeWithItsNames()
    {
        var schema = fixture.Model.GetOutputSchema(fixture.Test.Schema);
        var key = Assert.IsType<KeyDataViewType>(schema["PredictedLabel"].Type);
        VBuffer<ReadOnlyMemory<char>> names = default;
        schema["PredictedLabel"].Annotations.GetValue("KeyValues", ref names);

        Assert.Equal(7UL, key.Count);
        Assert.Equal(Pipelines.ShuffledClassOrder, names.DenseValues().Select(n => n.ToString()));
        VBuffer<ReadOnlyMemory<char>> slots = default;
        schema["Score"].Annotations.GetValue("SlotNames", ref slots);
        Assert.Equal(Pipelines.ShuffledClassOrder, slots.DenseValues().Select(n => n.ToString()));
        var score = Assert.IsType<VectorDataViewType>(schema["Score"].Type);
        Assert.Equal(NumberDataViewType.Single, score.ItemType);
        Assert.Equal(7, score.Size);
        Assert.Null(schema.GetColumnOrNull("HfferPixels"));
    }

    [Fact]
    public void EvaluateReportsTheAccuracyOfTheArgMaxOfScore()
    {
        var scored = fixture.Model.Transform(fixture.Test);
        var labels = scored.GetColumn<uint>("Label").ToArray();
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        double expected = labels.Zip(scores, (label, s) => Array.IndexOf(s, s.Max()) == label - 1 ? 1.0 : 0.0).Average();

        var metrics = fixture.Context.MulticlassClassification.Evaluate(scored);

        Assert.Equal(expected, metrics.MicroAccuracy, 10);
        Assert.Equal(7, metrics.ConfusionMatrix.NumberOfClasses);
    }

    [Fact]
    public void SavedModelReloadsInANewProcessWithIdenticalPredictions()
    {
        using var folder = new TemporaryFolder();
        string zip = Path.Combine(folder.Path, "model.zip");
        fixture.Context.Model.Save(fixture.Model, fixture.Train.Schema, zip);
        var rows = HfferDataCatalog.ReadImageFolder(TestData.Test).Where((_, i) => i % 10 == 0).ToArray();
        string list = Path.Combine(folder.Path, "images.txt");
        File.WriteAllLines(list, rows.Select(r => r.ImagePath + "\t" + r.Label));

        string output = Path.Combine(folder.Path, "scores.txt");
        RunProbe(zip, list, output);

        var scored = fixture.Model.Transform(fixture.Context.Data.LoadFromEnumerable(rows));
        var expected = scored.GetColumn<uint>("PredictedLabel").Zip(scored.GetColumn<float[]>("Score"),
            (key, s) => key.ToString(CultureInfo.InvariantCulture) + " " +
                string.Join(" ", s.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        Assert.Equal(expected, File.ReadAllLines(output));
    }

    [Fact]
    public void SavedModelReloadsInAFreshContextWithIdenticalScores()
    {
        using var stream = new MemoryStream();
        fixture.Context.Model.Save(fixture.Model, fixture.Train.Schema, stream);
        stream.Position = 0;
        var fresh = new MLContext();

        var loaded = fresh.Model.Load(stream, out var schema);
        var expected = fixture.Model.Transform(fixture.Test).GetColumn<float[]>("Score").ToArray();
        var actual = loaded.Transform(fresh.Data.LoadImageFolder(TestData.Test)).GetColumn<float[]>("Score").ToArray();

        Assert.Equal(fixture.Train.Schema.Select(c => c.Name), schema.Select(c => c.Name));
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i]);
    }

    [Fact]
    public void OnnxFileIsWrittenWholeAndEqualsTheEmbeddedGraph()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "hffer.onnx");

        fixture.Hffer.SaveOnnx(path);

        Assert.Equal(fixture.Hffer.OnnxModel.ToArray(), File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void TrainingHistoryHasOneEntryPerEpochWithDecayingLearningRate()
    {
        var history = fixture.Hffer.TrainingHistory;

        Assert.Equal([1, 2], history.Select(h => h.Epoch));
        Assert.Equal(3e-4, history[0].LearningRate, 12);
        Assert.Equal(0.99 * 3e-4, history[1].LearningRate, 12);
        Assert.All(history, h => Assert.True(double.IsFinite(h.TrainLoss) && h.TrainLoss > 0));
    }

    [Fact]
    public void TrainingReportsEveryEpochThroughMLContextLog()
    {
        var epochLines = fixture.Messages.Where(m => m.StartsWith("epoch", StringComparison.Ordinal)).ToArray();

        Assert.Equal(2, epochLines.Length);
        Assert.Contains("epoch   2/2", epochLines[1]);
        Assert.Contains(fixture.Messages, m => m.StartsWith("Training HFFER", StringComparison.Ordinal));
        Assert.Contains(fixture.Messages, m => m.StartsWith("Exported the trained network to ONNX", StringComparison.Ordinal));
    }

    /// <summary>Runs <c>Hffer.MLNet.ScoringProbe</c> (ML.NET and ONNX Runtime only) in a separate process.</summary>
    internal static void RunProbe(params string[] arguments)
    {
        string testsProject = TestData.FolderAbove("Hffer.MLNet.Tests.csproj");
        string relative = Path.GetRelativePath(testsProject, AppContext.BaseDirectory);
        string probe = Path.Combine(testsProject, "..", "Hffer.MLNet.ScoringProbe", relative, "Hffer.MLNet.ScoringProbe.dll");
        Assert.True(File.Exists(probe), $"The scoring probe was not built at {probe}.");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(probe);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "The scoring probe did not finish in two minutes.");
        Assert.True(process.ExitCode == 0, $"The scoring probe failed: {errors}");
    }
}
