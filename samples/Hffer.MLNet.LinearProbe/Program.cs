// Baseline for the HFFER results: ML.NET's own transfer-learning route, a linear classifier (L-BFGS maximum entropy)
// on the globally pooled 512 features of the same ImageNet ResNet18 the quickstart's prior uses. It shows what the
// pretrained features give without HFFER's face branch and fusion.
//
//   dotnet run --project samples/Hffer.MLNet.LinearProbe [-- <dataset>]
//
// A dataset folder holds train/<class>/*.jpg and test/<class>/*.jpg (default: the 420 bundled images).

using System.Diagnostics;
using Hffer.MLNet.Data;
using Hffer.MLNet.Quickstart;
using Microsoft.ML;

string dataset = args.Length > 0
    ? Path.GetFullPath(args[0])
    : Path.Combine(AppContext.BaseDirectory, "data", "fer2013-mini");
var ml = new MLContext(seed: 1);
var train = ml.Data.LoadImageFolder(Path.Combine(dataset, "train"));
var test = ml.Data.LoadImageFolder(Path.Combine(dataset, "test"));

// ResNet18 wants 224-pixel planar RGB 0-255; its package's first graph reorders to BGR and subtracts the mean image.
// The features are cached after the first pass, because L-BFGS reads the data many times.
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath"))
    .Append(ml.Transforms.ResizeImages("Resized", 224, 224, "Image"))
    .Append(ml.Transforms.ExtractPixels("Pixels", "Resized"))
    .Append(ml.Transforms.DnnFeaturizeImage("Features",
        model => model.ModelSelector.ResNet18(ml, model.OutputColumn, model.InputColumn), "Pixels"))
    .AppendCacheCheckpoint(ml)
    .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "Features"));

Console.WriteLine($"Dataset: {dataset}");
Console.WriteLine("Featurizing with ResNet18 and training a linear classifier...");
var clock = Stopwatch.StartNew();
var model = pipeline.Fit(train);
Console.WriteLine($"Trained in {clock.Elapsed.TotalSeconds:F0} s.");

var labels = ml.Data.CreateEnumerable<LabelRow>(train, reuseRowObject: false).Select(r => r.Label).Distinct()
    .Order(StringComparer.Ordinal).ToArray();
Report.Print(ml.MulticlassClassification.Evaluate(model.Transform(test)), labels);
Console.WriteLine($"Total time with evaluation: {clock.Elapsed.TotalSeconds:F0} s.");

internal sealed class LabelRow
{
    public string Label { get; set; } = "";
}
