using Hffer.MLNet.Data;
using Hffer.MLNet.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Tests;

/// <summary>Bad inputs and training controls: clear errors, cancellation, device choice, repeatability.</summary>
public class HfferEstimatorInputTests
{
    [Fact]
    public void TextLabelIsRejectedWithAHintToMapValueToKey()
    {
        var ml = new MLContext();
        var pipeline = ml.Transforms.LoadImages("Image", null, "ImagePath")
            .Append(ml.Transforms.Hffer(Pipelines.QuickOptions()));

        var error = Assert.Throws<ArgumentException>(() => pipeline.Fit(Pipelines.TrainingSubset(ml, step: 28)));

        Assert.Contains("MapValueToKey", error.Message);
    }

    [Fact]
    public void PathColumnInsteadOfImagesIsRejectedWithAHintToLoadImages()
    {
        var ml = new MLContext();
        var options = Pipelines.QuickOptions();
        options.ImageColumnName = "ImagePath";
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.Hffer(options));

        var error = Assert.Throws<ArgumentException>(() => pipeline.Fit(Pipelines.TrainingSubset(ml, step: 28)));

        Assert.Contains("LoadImages", error.Message);
    }

    [Fact]
    public void CorruptImageFailsFitWithTheRowAndFileNamed()
    {
        using var folder = new TemporaryFolder();
        var rows = HfferDataCatalog.ReadImageFolder(TestData.Train).Where((_, i) => i % 40 == 0).ToList();
        string broken = Path.Combine(folder.Path, "broken-face.jpg");
        File.WriteAllText(broken, "this is not a JPEG file");
        rows.Insert(3, new ImageFolderRow { ImagePath = broken, Label = "happy" });
        var ml = new MLContext();

        var error = Assert.Throws<InvalidDataException>(() =>
            Pipelines.Hffer(ml, Pipelines.QuickOptions()).Fit(ml.Data.LoadFromEnumerable(rows)));

        Assert.Contains("Row 3", error.Message);
        Assert.Contains(broken, error.Message);
    }

    [Fact]
    public void EmptyTrainingDataIsRejected()
    {
        var ml = new MLContext();
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<ImageFolderRow>());
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyData: Pipelines.ClassNames(ml, "happy", "sad"))
            .Append(ml.Transforms.LoadImages("Image", null, "ImagePath"))
            .Append(ml.Transforms.Hffer(Pipelines.QuickOptions()));

        var error = Assert.Throws<InvalidOperationException>(() => pipeline.Fit(empty));

        Assert.Contains("no rows", error.Message);
    }

    [Theory]
    [InlineData(nameof(HfferOptions.Epochs))]
    [InlineData(nameof(HfferOptions.BatchSize))]
    [InlineData(nameof(HfferOptions.LearningRate))]
    public void OutOfRangeOptionsAreNamed(string option)
    {
        var options = Pipelines.QuickOptions();
        switch (option)
        {
            case nameof(HfferOptions.Epochs): options.Epochs = 0; break;
            case nameof(HfferOptions.BatchSize): options.BatchSize = -1; break;
            default: options.LearningRate = 5; break;
        }

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.Hffer(options));

        Assert.Equal(option, error.ParamName);
    }

    [Fact]
    public void OptionsChangedAfterCreationAreCheckedAgainInFit()
    {
        var ml = new MLContext();
        var options = Pipelines.QuickOptions();
        var pipeline = Pipelines.Hffer(ml, options);
        options.Epochs = 0;

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Fit(Pipelines.TrainingSubset(ml, step: 28)));

        Assert.Equal(nameof(HfferOptions.Epochs), error.ParamName);
    }

    [Fact]
    public void MissingLabelColumnIsReportedAsMissing()
    {
        var ml = new MLContext();
        var options = Pipelines.QuickOptions();
        options.LabelColumnName = "Emotion";

        var error = Assert.Throws<ArgumentException>(() => Pipelines.Hffer(ml, options).Fit(Pipelines.TrainingSubset(ml, 28)));

        Assert.Contains("no label column 'Emotion'", error.Message);
    }

    [Fact]
    public void CancellationAfterAnEpochReturnsTheModelSoFar()
    {
        var ml = new MLContext();
        using var cancellation = new CancellationTokenSource();
        var options = Pipelines.QuickOptions(epochs: 50);
        options.CancellationToken = cancellation.Token;
        options.EpochCompleted = _ => cancellation.Cancel();
        var data = Pipelines.TrainingSubset(ml, step: 7);

        using var model = Pipelines.Hffer(ml, options).Fit(data).LastTransformer;

        Assert.Single(model.TrainingHistory);
        Pipelines.AssertScoresEveryRow(ml, model, data, rows: 40);
    }

    [Fact]
    public void CancellationBeforeTheFirstStepThrows()
    {
        var ml = new MLContext();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var options = Pipelines.QuickOptions();
        options.CancellationToken = cancellation.Token;

        Assert.ThrowsAny<OperationCanceledException>(() =>
            Pipelines.Hffer(ml, options).Fit(Pipelines.TrainingSubset(ml, step: 14)));
    }

    [Fact]
    public void ValidationSplitScoresEveryEpochAndEarlyStoppingKeepsTheBestEpoch()
    {
        var ml = new MLContext();
        var options = Pipelines.QuickOptions(epochs: 6);
        options.ValidationFraction = 0.25;
        options.EarlyStoppingPatience = 1;
        options.EarlyStoppingMinDelta = 1.0;

        using var model = Pipelines.Hffer(ml, options).Fit(Pipelines.TrainingSubset(ml, step: 7)).LastTransformer;

        Assert.Equal(2, model.TrainingHistory.Count);
        Assert.Equal(1, model.BestEpoch);
        Assert.All(model.TrainingHistory, m => Assert.InRange(m.ValidationAccuracy!.Value, 0, 1));
        Assert.Contains("val acc", model.TrainingHistory[0].ToString());
    }

    [Fact]
    public void EarlyStoppingWithoutValidationDataIsRejected()
    {
        var options = Pipelines.QuickOptions();
        options.EarlyStoppingPatience = 3;

        var error = Assert.Throws<ArgumentException>(() => new MLContext().Transforms.Hffer(options));

        Assert.Contains("needs validation data", error.Message);
    }

    [Fact]
    public void GpuRequestWithoutCudaFailsWithThePackageToAddUnlessFallbackIsAllowed()
    {
        var ml = new MLContext();
        var options = Pipelines.QuickOptions();
        options.GpuDeviceId = 0;
        var data = Pipelines.TrainingSubset(ml, step: 14);
        if (TorchSharp.torch.cuda.is_available())
            return;

        var error = Assert.Throws<InvalidOperationException>(() => Pipelines.Hffer(ml, options).Fit(data));
        options.FallbackToCpu = true;
        using var fallback = Pipelines.Hffer(ml, options).Fit(data).LastTransformer;

        Assert.Contains("TorchSharp-cuda", error.Message);
        Assert.Single(fallback.TrainingHistory);
    }

    [Fact]
    public void FitLoadsTheDinov2CheckpointAndRefusesOneThatDoesNotFit()
    {
        using var folder = new TemporaryFolder();
        string fitting = Path.Combine(folder.Path, "small.pth"), deeper = Path.Combine(folder.Path, "deeper.pth");
        TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(fitting, Weights.OfficialCheckpoints.Dinov2Hub(dim: 96, depth: 2));
        TorchSharp.PyBridge.PyTorchPickler.PickleStateDict(deeper, Weights.OfficialCheckpoints.Dinov2Hub(dim: 96, depth: 3));
        var ml = new MLContext();
        var messages = new List<string>();
        ml.Log += (_, e) => messages.Add(e.RawMessage);
        var data = Pipelines.TrainingSubset(ml, step: 14);
        var options = Pipelines.QuickOptions();

        options.Dinov2Checkpoint = fitting;
        using (Pipelines.Hffer(ml, options).Fit(data).LastTransformer) { }
        options.Dinov2Checkpoint = deeper;
        var error = Assert.Throws<InvalidDataException>(() => Pipelines.Hffer(ml, options).Fit(data));

        Assert.Contains(messages, m => m.StartsWith("dinov2 <- small.pth: 35 loaded, 0 missing, 0 unexpected"));
        Assert.Contains("14 unexpected", error.Message);
    }

    [Fact]
    public void SameSeedGivesIdenticalWeightsAndAnotherSeedDoesNot()
    {
        byte[] Train(int seed)
        {
            var ml = new MLContext();
            var options = Pipelines.QuickOptions();
            options.Seed = seed;
            using var hffer = Pipelines.Hffer(ml, options).Fit(Pipelines.TrainingSubset(ml, step: 7)).LastTransformer;
            return hffer.OnnxModel.ToArray();
        }

        byte[] first = Train(5), second = Train(5), other = Train(6);

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }
}
