using Hffer.MLNet.Data;
using Hffer.MLNet.Priors;
using Hffer.MLNet.Scoring;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using static Hffer.MLNet.Tests.FloatComparison;

namespace Hffer.MLNet.Tests.Scoring;

/// <summary>The batched scorer against ML.NET's row-by-row <c>Transform</c> on the same fitted model.</summary>
[Collection("Torch")]
public class HfferBatchScorerTests
{
    [Fact]
    public void BatchedScoresEqualTransformInRowOrderIncludingAPartialLastBatch()
    {
        var ml = new MLContext(1);
        using var model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(Pipelines.TrainingSubset(ml, step: 20));
        var (images, expected, labels) = TransformScores(ml, model, step: 15);
        using var scorer = model.LastTransformer.CreateBatchScorer(new HfferBatchScoringOptions { BatchSize = 4 });

        var predictions = scorer.Score(images).ToArray();

        Assert.Equal(expected.Length, predictions.Length);
        Assert.NotEqual(0, predictions.Length % 4);
        double worst = MaxAbsDifference(expected.SelectMany(s => s).ToArray(),
            predictions.SelectMany(p => p.Score).ToArray());
        Assert.True(worst <= 1e-5, $"max |diff| = {worst}");
        Assert.Equal(labels, predictions.Select(p => p.PredictedLabel));
        Assert.All(predictions, p => Assert.Equal(model.LastTransformer.ClassNames[p.PredictedIndex], p.PredictedLabel));
        Assert.Equal(scorer.ScoreFiles(Paths(step: 15)).Select(p => p.Score), predictions.Select(p => p.Score));
    }

    [Fact]
    public void WithTheResNet18PriorTheImageByImagePriorFeedsTheBatchedNetwork()
    {
        var ml = new MLContext(1);
        var options = Pipelines.QuickOptions();
        options.OnnxPrior = OnnxFeaturizerPrior.ResNet18();
        using var model = Pipelines.Hffer(ml, options).Fit(Pipelines.TrainingSubset(ml, step: 20));
        var (images, expected, labels) = TransformScores(ml, model, step: 30);
        using var scorer = model.LastTransformer.CreateBatchScorer(new HfferBatchScoringOptions { BatchSize = 3 });

        var predictions = scorer.Score(images).ToArray();
        using var folder = new TemporaryFolder();
        string network = Path.Combine(folder.Path, "hffer.onnx"), prior = Path.Combine(folder.Path, "prior.onnx");
        model.LastTransformer.SaveOnnx(network);
        model.LastTransformer.SavePriorOnnx(prior);
        var missingPrior = Assert.Throws<ArgumentException>(() =>
            HfferBatchScorer.FromOnnx(ml, network, model.LastTransformer.ClassNames));
        var swapped = Assert.Throws<InvalidDataException>(() =>
            HfferBatchScorer.FromOnnx(ml, prior, model.LastTransformer.ClassNames, network));
        using var loaded = HfferBatchScorer.FromOnnx(ml, network, model.LastTransformer.ClassNames, prior);

        double worst = MaxAbsDifference(expected.SelectMany(s => s).ToArray(),
            predictions.SelectMany(p => p.Score).ToArray());
        Assert.True(worst <= 1e-5, $"max |diff| = {worst}");
        Assert.Equal(labels, predictions.Select(p => p.PredictedLabel));
        Assert.Equal(predictions.Select(p => p.Score), loaded.Score(images).Select(p => p.Score));
        Assert.StartsWith($"{network} was trained with an ONNX prior; pass the graph SavePriorOnnx wrote as priorPath.",
            missingPrior.Message);
        Assert.StartsWith($"{prior} is not a network graph saved by HfferTransformer.SaveOnnx", swapped.Message);
    }

    [Fact]
    public void CancellationStopsAtTheNextPredictionWithTheCallersTokenAndAnUnreadableImageIsNamed()
    {
        using var folder = new TemporaryFolder();
        var ml = new MLContext(1);
        using var model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(Pipelines.TrainingSubset(ml, step: 20));
        using var scorer = model.LastTransformer.CreateBatchScorer(new HfferBatchScoringOptions { BatchSize = 4 });
        string broken = Path.Combine(folder.Path, "broken face.jpg");
        File.WriteAllText(broken, "not a JPEG");
        using var cancel = new CancellationTokenSource();
        var received = new List<HfferPrediction>();

        var cancelled = Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (var prediction in scorer.ScoreFiles(Paths(step: 15), cancel.Token))
            {
                received.Add(prediction);
                cancel.Cancel();
            }
        });
        var error = Assert.Throws<InvalidDataException>(() =>
            scorer.ScoreFiles([.. Paths(step: 30).Take(3), broken]).ToArray());
        var empty = Assert.Throws<ArgumentException>(() => scorer.ScoreFiles([Paths(step: 30)[0], " "]).ToArray());

        Assert.Single(received);
        Assert.Equal(cancel.Token, cancelled.CancellationToken);
        Assert.StartsWith($"Row 3 of the scored data: the image file '{broken}' could not be decoded", error.Message);
        Assert.StartsWith("Image path 1 is empty.", empty.Message);
    }

    [Fact]
    public void DisposingWhileEnumeratingOrBeforeScoringThrowsObjectDisposedAndOversizedBatchesAreRefused()
    {
        var ml = new MLContext(1);
        using var model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(Pipelines.TrainingSubset(ml, step: 20));
        var scorer = model.LastTransformer.CreateBatchScorer(new HfferBatchScoringOptions { BatchSize = 2 });
        int received = 0;

        Assert.Throws<ObjectDisposedException>(() =>
        {
            foreach (var _ in scorer.ScoreFiles(Paths(step: 30)))
            {
                received++;
                scorer.Dispose();
            }
        });
        scorer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => scorer.ScoreFiles(Paths(step: 30)));
        var oversized = Assert.Throws<ArgumentOutOfRangeException>(() =>
            model.LastTransformer.CreateBatchScorer(new HfferBatchScoringOptions { BatchSize = int.MaxValue }));

        Assert.Equal(2, received);
        Assert.StartsWith("At most 57,065 images of 112 pixels fit in one batch buffer.", oversized.Message);
    }

    [Fact]
    public void SavedGraphsScoreInAScorerOfTheirOwnAndMismatchedFilesAreNamed()
    {
        using var folder = new TemporaryFolder();
        var ml = new MLContext(1);
        using var model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(Pipelines.TrainingSubset(ml, step: 20));
        var transformer = model.LastTransformer;
        string onnx = Path.Combine(folder.Path, "hffer.onnx"), text = Path.Combine(folder.Path, "notes.onnx");
        transformer.SaveOnnx(onnx);
        File.WriteAllText(text, "not a model");
        using var trained = transformer.CreateBatchScorer(new HfferBatchScoringOptions { BatchSize = 3 });

        using var loaded = HfferBatchScorer.FromOnnx(new MLContext(), onnx, transformer.ClassNames,
            options: new HfferBatchScoringOptions { BatchSize = 3 });
        var wrongCount = Assert.Throws<ArgumentException>(() =>
            HfferBatchScorer.FromOnnx(new MLContext(), onnx, transformer.ClassNames.Take(6).ToArray()));
        var needlessPrior = Assert.Throws<ArgumentException>(() =>
            HfferBatchScorer.FromOnnx(new MLContext(), onnx, transformer.ClassNames, priorPath: onnx));
        var notAModel = Assert.Throws<InvalidDataException>(() =>
            HfferBatchScorer.FromOnnx(new MLContext(), text, transformer.ClassNames));

        Assert.Equal(trained.ScoreFiles(Paths(step: 30)), loaded.ScoreFiles(Paths(step: 30)),
            (a, b) => a.PredictedLabel == b.PredictedLabel && a.Score.SequenceEqual(b.Score));
        Assert.StartsWith($"{onnx} scores 7 classes, but 6 class names were given.", wrongCount.Message);
        Assert.StartsWith($"{onnx} has its prior inside; it takes no prior graph.", needlessPrior.Message);
        Assert.StartsWith($"{text} is not an ONNX model ONNX Runtime can load", notAModel.Message);
    }

    [Fact]
    public void AGpuRequestWithTheCpuOnnxRuntimeFailsNamingThePackageOrFallsBackWithAWarning()
    {
        var ml = new MLContext(1);
        var warnings = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Kind == ChannelMessageKind.Warning && e.Source == "Hffer")
                warnings.Add(e.RawMessage);
        };
        using var model = Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(Pipelines.TrainingSubset(ml, step: 20));
        var transformer = model.LastTransformer;

        var refused = Assert.Throws<InvalidOperationException>(() =>
            transformer.CreateBatchScorer(new HfferBatchScoringOptions { GpuDeviceId = 0 }));
        using var fallback = transformer.CreateBatchScorer(
            new HfferBatchScoringOptions { GpuDeviceId = 0, FallbackToCpu = true });
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            transformer.CreateBatchScorer(new HfferBatchScoringOptions { BatchSize = 0 }));

        Assert.StartsWith("HfferBatchScoringOptions.GpuDeviceId is 0, but ONNX Runtime cannot score on it: the " +
            "application's ONNX Runtime package has no CUDA execution provider (reference " +
            "Microsoft.ML.OnnxRuntime.Gpu.Linux (Linux) or Microsoft.ML.OnnxRuntime.Gpu (Windows)", refused.Message);
        Assert.DoesNotContain("Nothing was trained", refused.Message);
        Assert.Null(fallback.GpuDeviceId);
        Assert.Contains(warnings, w => w.StartsWith("HfferBatchScoringOptions.GpuDeviceId is 0", StringComparison.Ordinal)
            && w.Contains("Scoring on the CPU (FallbackToCpu is set)", StringComparison.Ordinal));
        Assert.Equal(7, fallback.ScoreFiles(Paths(step: 30)).First().Score.Length);
    }

    private static string[] Paths(int step) =>
        HfferDataCatalog.ReadImageFolder(TestData.Test).Where((_, i) => i % step == 0).Select(r => r.ImagePath)
            .ToArray();

    /// <summary>The test subset as an image view, and <c>Transform</c>'s scores and predicted class names for it.</summary>
    private static (IDataView Images, float[][] Scores, string[] Labels) TransformScores(MLContext ml,
        TransformerChain<HfferTransformer> model, int step)
    {
        var rows = ml.Data.LoadFromEnumerable(
            HfferDataCatalog.ReadImageFolder(TestData.Test).Where((_, i) => i % step == 0));
        var scored = model.Transform(rows);
        var classes = model.LastTransformer.ClassNames;
        string[] labels = scored.GetColumn<uint>("PredictedLabel").Select(key => classes[(int)key - 1]).ToArray();
        var images = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath").Fit(rows)
            .Transform(rows);
        return (images, scored.GetColumn<float[]>("Score").ToArray(), labels);
    }
}
