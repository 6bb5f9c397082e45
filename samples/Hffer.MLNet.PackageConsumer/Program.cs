// Trains the small HFFER preset for one epoch on a folder of faces and prints a prediction, using Hffer.MLNet from
// its NuGet package.
//
//   dotnet run --project samples/Hffer.MLNet.PackageConsumer [-- <dataset folder with train/ and test/>]

using Hffer.MLNet;
using Hffer.MLNet.Data;
using Hffer.MLNet.Priors;
using Microsoft.ML;

string dataset = args.Length > 0
    ? Path.GetFullPath(args[0])
    : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../data/fer2013-mini"));
if (!Directory.Exists(Path.Combine(dataset, "train")))
{
    Console.Error.WriteLine($"No train folder in {dataset}; pass a dataset folder with train/<class>/ images.");
    return 2;
}

var ml = new MLContext(seed: 1);
var train = ml.Data.LoadImageFolder(Path.Combine(dataset, "train"));
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath"))
    .Append(ml.MulticlassClassification.Trainers.Hffer(new HfferOptions
    {
        Preset = HfferPreset.Small,
        Epochs = 1,
        BatchSize = 16,
        OnnxPrior = OnnxFeaturizerPrior.ResNet18(),
        EpochCompleted = metrics => Console.WriteLine(metrics),
    }));
var model = pipeline.Fit(train);

var face = HfferDataCatalog.ReadImageFolder(Path.Combine(dataset, "test")).First();
using var scorer = model.LastTransformer.CreateBatchScorer();
var prediction = scorer.ScoreFiles([face.ImagePath]).Single();
Console.WriteLine($"Prediction for {Path.GetFileName(face.ImagePath)} (labelled {face.Label}): " +
    $"{prediction.PredictedLabel} ({prediction.Score[prediction.PredictedIndex]:P1})");
model.LastTransformer.Dispose();
return 0;
