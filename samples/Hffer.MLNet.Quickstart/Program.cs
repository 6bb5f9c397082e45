// Quickstart: trains HFFER on real FER-2013 faces, evaluates it, saves it, reloads it and scores a few images.
//
//   dotnet run --project samples/Hffer.MLNet.Quickstart                         (420 images kept in the repository)
//   dotnet run --project samples/Hffer.MLNet.Quickstart -- <dataset> [--preset small|paper] [--epochs N]
//                                                           [--batch-size N] [--learning-rate X] [--seed N]
//                                                           [--validation-fraction X] [--checkpoints <folder>]
//                                                           [--prior resnet18|dinov2] [--dinov2-checkpoint <file>]
//                                                           [--augment-frozen-branch] (needs --prior dinov2)
//                                                           [--output <folder>]
//
// The small preset's frozen prior is ImageNet ResNet18 from ML.NET's NuGet package (offline, pretrained): HFFER's
// recipe with a weaker prior than the paper's DINOv2. --prior dinov2 uses the TorchSharp DINOv2 branch, which has
// random weights unless --dinov2-checkpoint gives the official ones; the paper preset, and --dinov2-checkpoint,
// select it by default.
//
// A fifth of the training images (--validation-fraction) is held out to pick the best epoch; --checkpoints writes a
// checkpoint after every epoch and continues from it when run again (stop it with Ctrl+C: the model so far is kept).
//
// A dataset folder holds train/<class>/*.jpg and test/<class>/*.jpg.

using System.Diagnostics;
using Hffer.MLNet;
using Hffer.MLNet.Data;
using Hffer.MLNet.Priors;
using Hffer.MLNet.Quickstart;
using Hffer.MLNet.Visualization;
using Microsoft.ML;
using Microsoft.ML.Data;

QuickstartSettings settings;
try
{
    settings = QuickstartSettings.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
Console.WriteLine($"Dataset: {settings.Dataset}");
Console.WriteLine($"Preset: {settings.Preset}, prior: {settings.Prior}" +
    (settings.Prior == QuickstartPrior.Dinov2 && settings.Dinov2Checkpoint is null ? " (random weights)" : "") +
    $", epochs: {settings.Epochs}, batch size: {settings.BatchSize}");

// Ctrl+C ends training within one step; Fit then returns the best model so far instead of throwing it away.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !stop.IsCancellationRequested;
    if (e.Cancel)
        Console.WriteLine("Stopping after this step and keeping the model so far (Ctrl+C again to quit now)...");
    stop.Cancel();
};

var ml = new MLContext(seed: 1);
ml.Log += (_, e) =>
{
    if (e.Source != "Hffer")
        return;
    if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning)
        Console.WriteLine($"  [{e.Source}] warning: {e.RawMessage}");
    else if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info
        && !e.RawMessage.StartsWith("epoch", StringComparison.Ordinal)
        && !e.RawMessage.StartsWith("  prior features", StringComparison.Ordinal))
        Console.WriteLine($"  [{e.Source}] {e.RawMessage}");
};

var train = ml.Data.LoadImageFolder(Path.Combine(settings.Dataset, "train"));
var test = ml.Data.LoadImageFolder(Path.Combine(settings.Dataset, "test"));

int epochsRun = 0;

// Label text -> key (alphabetical folder order), file -> image, then HFFER. Built inside the try below, because the
// estimator checks its options (and loads the prior's description) when it is created.
EstimatorChain<HfferTransformer> Pipeline() => ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath"))
    .Append(ml.Transforms.Hffer(new HfferOptions
    {
        Preset = settings.Preset,
        Epochs = settings.Epochs,
        BatchSize = settings.BatchSize,
        LearningRate = settings.LearningRate,
        Seed = settings.Seed,
        ValidationFraction = settings.ValidationFraction,
        CheckpointDirectory = settings.Checkpoints,
        ResumeFromCheckpoint = settings.Checkpoints is not null,
        AugmentFrozenBranch = settings.AugmentFrozenBranch,
        OnnxPrior = settings.Prior == QuickstartPrior.ResNet18 ? OnnxFeaturizerPrior.ResNet18() : null,
        Dinov2Checkpoint = settings.Dinov2Checkpoint,
        EpochCompleted = metrics =>
        {
            epochsRun++;
            Console.WriteLine("  " + metrics);
        },
        CancellationToken = stop.Token,
    }));

Console.WriteLine("Training...");
var clock = Stopwatch.StartNew();
TransformerChain<HfferTransformer> model;
try
{
    model = Pipeline().Fit(train);
}
catch (OperationCanceledException)
{
    Console.WriteLine("Cancelled before the first training step; nothing to keep.");
    return 130;
}
catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
{
    // Bad data, a damaged or foreign checkpoint, an unwritable folder: the message says which and what to do.
    Console.Error.WriteLine($"Training failed: {e.Message}");
    Console.Error.WriteLine("See docs/troubleshooting.md.");
    return 2;
}
var hffer = model.LastTransformer;
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F0} s; " + (hffer.BestEpoch is { } best
    ? $"kept epoch {best} of {hffer.TrainingHistory.Count} (best validation accuracy " +
      $"{hffer.TrainingHistory.Single(m => m.Epoch == best).ValidationAccuracy:P1})" +
      (epochsRun > 0 ? ", marked * above." : ".")
    : $"kept the last epoch, {hffer.TrainingHistory.LastOrDefault()?.Epoch ?? 0}."));
if (stop.IsCancellationRequested)
    Console.WriteLine("Interrupted: the model below is the one so far. " + (settings.Checkpoints is null
        ? "Add --checkpoints <folder> to be able to continue a run."
        : "Run the same command again to continue from the last finished epoch."));
var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
Report.Print(metrics, hffer.ClassNames);
var samples = HfferDataCatalog.ReadImageFolder(Path.Combine(settings.Dataset, "test"))
    .GroupBy(r => r.Label).Select(g => g.First()).ToArray();

Directory.CreateDirectory(settings.Output);
string zipPath = Path.Combine(settings.Output, "hffer-model.zip");
string onnxPath = Path.Combine(settings.Output, "hffer.onnx");
Report.SaveAtomically(zipPath, path => ml.Model.Save(model, train.Schema, path));
hffer.SaveOnnx(onnxPath);
Console.WriteLine($"Saved {zipPath} ({new FileInfo(zipPath).Length:N0} bytes) and {onnxPath}.");
if (!hffer.PriorOnnxModel.IsEmpty)
{
    string priorPath = Path.Combine(settings.Output, "hffer-prior.onnx");
    hffer.SavePriorOnnx(priorPath);
    Console.WriteLine($"Saved the prior graph {priorPath}: the network's input HfferPriorMap is its output.");
}

// The confusion matrix, training curves and one attention picture per class, gathered in report.md.
var report = HfferReport.Write(Path.Combine(settings.Output, "report"), hffer, metrics, samples);
Console.WriteLine($"Wrote {report.MarkdownPath} with {2 + report.AttentionPictures.Count} pictures.");

// A fresh context, as another process would have: the zip holds the whole chain and the ONNX graph.
var scoringContext = new MLContext();
var loaded = scoringContext.Model.Load(zipPath, out _);
Report.PrintPredictions(scoringContext, loaded, samples, hffer.ClassNames);
hffer.Dispose();
return stop.IsCancellationRequested ? 130 : 0;
