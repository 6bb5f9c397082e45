using Hffer.MLNet.Training;
using Microsoft.ML;

namespace Hffer.MLNet.Tests;

/// <summary>Progress, cancellation and checkpoints as a user of <c>Fit</c> meets them.</summary>
public class HfferTrainingControlTests
{
    // Every 7th bundled training image: 40 faces, so 3 steps of 16 per epoch.
    private const int Step = 7;

    [Fact]
    public void ProgressIsReportedEveryNStepsThroughTheCallbackAndTheLog()
    {
        var ml = new MLContext();
        var messages = new List<string>();
        ml.Log += (_, e) => messages.Add(e.RawMessage);
        var reports = new List<HfferTrainingProgress>();
        var options = Pipelines.QuickOptions(epochs: 2);
        options.ProgressEveryNSteps = 2;
        options.ProgressReported = reports.Add;

        using var model = Pipelines.Hffer(ml, options).Fit(Pipelines.TrainingSubset(ml, Step)).LastTransformer;

        Assert.Equal([(1, 2), (2, 2)], reports.Select(r => (r.Epoch, r.Step)));
        Assert.All(reports, r => Assert.Equal(3, r.StepsPerEpoch));
        Assert.Equal(model.TrainingHistory.Select(m => m.LearningRate), reports.Select(r => r.LearningRate));
        Assert.Equal(3e-4 * 0.99, reports[1].LearningRate, 12);
        Assert.All(reports, r => Assert.InRange(r.TrainAccuracy, 0, 1));
        Assert.True(reports[0].EstimatedRemaining > TimeSpan.Zero && reports[1].Elapsed > reports[0].Elapsed);
        Assert.Contains(messages, m => m.StartsWith("epoch 2/2 step 2/3  loss "));
    }

    [Fact]
    public void CancellationInTheFirstEpochReturnsAUsableModel()
    {
        var ml = new MLContext();
        using var cancellation = new CancellationTokenSource();
        var options = Pipelines.QuickOptions(epochs: 5);
        options.ProgressEveryNSteps = 1;
        options.ProgressReported = _ => cancellation.Cancel();
        options.CancellationToken = cancellation.Token;
        var data = Pipelines.TrainingSubset(ml, Step);

        using var model = Pipelines.Hffer(ml, options).Fit(data).LastTransformer;

        Assert.Empty(model.TrainingHistory);
        Pipelines.AssertScoresEveryRow(ml, model, data, rows: 40);
    }

    [Fact]
    public void FitResumedFromACheckpointExportsTheSameModelAsOneUninterruptedFit()
    {
        using var folder = new TemporaryFolder();
        var ml = new MLContext();
        var data = Pipelines.TrainingSubset(ml, Step);
        HfferTransformer Fit(int epochs, string? checkpoints)
        {
            var options = Pipelines.QuickOptions(epochs);
            options.CheckpointDirectory = checkpoints;
            options.ResumeFromCheckpoint = checkpoints is not null;
            return Pipelines.Hffer(ml, options).Fit(data).LastTransformer;
        }

        using var uninterrupted = Fit(epochs: 2, checkpoints: null);
        using var firstEpoch = Fit(epochs: 1, folder.Path);
        using var resumed = Fit(epochs: 2, folder.Path);

        Assert.Equal(uninterrupted.OnnxModel.ToArray(), resumed.OnnxModel.ToArray());
        Assert.NotEqual(uninterrupted.OnnxModel.ToArray(), firstEpoch.OnnxModel.ToArray());
        Assert.Equal([1, 2], resumed.TrainingHistory.Select(m => m.Epoch));
        Assert.Equal(firstEpoch.TrainingHistory[0].TrainLoss, resumed.TrainingHistory[0].TrainLoss);
    }

    [Fact]
    public void ResumingNeedsACheckpointDirectory()
    {
        var options = Pipelines.QuickOptions();
        options.ResumeFromCheckpoint = true;

        var error = Assert.Throws<ArgumentException>(() => new MLContext().Transforms.Hffer(options));

        Assert.Equal("ResumeFromCheckpoint", error.ParamName);
        Assert.Contains("needs CheckpointDirectory", error.Message);
    }

    [Fact]
    public void ACheckpointDirectoryThatIsAFileIsRejectedBeforeTraining()
    {
        using var folder = new TemporaryFolder();
        string file = Path.Combine(folder.Path, "not-a-folder");
        File.WriteAllText(file, "x");
        var options = Pipelines.QuickOptions();
        options.CheckpointDirectory = file;

        var error = Assert.Throws<ArgumentException>(() => new MLContext().Transforms.Hffer(options));

        Assert.Equal("CheckpointDirectory", error.ParamName);
        Assert.Contains($"'{file}' is a file", error.Message);
    }

    [Fact]
    public void AnExistingCheckpointIsNotSilentlyReplacedWhenNotResuming()
    {
        using var folder = new TemporaryFolder();
        var ml = new MLContext();
        var warnings = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning)
                warnings.Add(e.RawMessage);
        };
        var options = Pipelines.QuickOptions();
        options.CheckpointDirectory = folder.Path;
        var data = Pipelines.TrainingSubset(ml, step: 14);

        using (Pipelines.Hffer(ml, options).Fit(data).LastTransformer) { }
        Assert.Empty(warnings);
        using (Pipelines.Hffer(ml, options).Fit(data).LastTransformer) { }

        Assert.Contains(warnings, w => w.EndsWith("set ResumeFromCheckpoint to continue from it."));
    }
}
