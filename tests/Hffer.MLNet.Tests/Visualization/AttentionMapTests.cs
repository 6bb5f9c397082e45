using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Onnx;
using Hffer.MLNet.Scoring;
using Hffer.MLNet.Visualization;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using static Hffer.MLNet.Tests.FloatComparison;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Visualization;

/// <summary>Attention maps from the exported graph against TorchSharp, and a report drawn from a trained model.
/// </summary>
[Collection("Torch")]
public class AttentionMapTests
{
    [Fact]
    public void ExportedAttentionWeightsEqualTorchSharpsAndAverageIntoMapsThatSumToOne()
    {
        using var network = TestNetworks.Random(HfferArchitecture.Small, classes: 7, seed: 11);
        var deepest = network.fusion[^1];
        deepest.attn_ir.ObserveWeights = deepest.attn_do.ObserveWeights = true;
        using var pixels = TestNetworks.Pixels(batch: 3, HfferArchitecture.Small.InputSize, seed: 5);
        using (no_grad())
        using (var input = ImageNormalization.Apply(pixels))
            network.call(input).Dispose();
        using var torchIr = deepest.attn_ir.ObservedWeights!;
        using var torchFrozen = deepest.attn_do.ObservedWeights!;

        var (model, irName, frozenName) = AttentionOutputs.Expose(
            HfferOnnxExporter.ExportToBytes(network, OnnxExportNames.Default), "the test graph");
        using var session = new InferenceSession(model);
        using var input2 = OrtValue.CreateTensorValueFromMemory(pixels.data<float>().ToArray(), [3, 3, 112, 112]);
        using var run = new RunOptions();
        using var outputs = session.Run(run, [OnnxExportNames.Default.Pixels], [input2], [irName, frozenName]);

        Assert.Equal("fusion.1.attn_ir.probabilities", irName);
        Assert.Equal(torchIr.shape, outputs[0].GetTensorTypeAndShape().Shape);
        Assert.True(MaxAbsDifference(torchIr.data<float>().ToArray(), outputs[0].GetTensorDataAsSpan<float>().ToArray())
            <= 1e-5);
        Assert.True(MaxAbsDifference(torchFrozen.data<float>().ToArray(),
            outputs[1].GetTensorDataAsSpan<float>().ToArray()) <= 1e-5);

        // Averaging over heads and queries, done by TorchSharp, against the scorer's loop.
        long[] shape = torchIr.shape;
        var maps = HfferAttentionMaps.Average(outputs[0].GetTensorDataAsSpan<float>(), 3, (int)shape[1],
            (int)shape[2], (int)shape[3]);
        using var expected = torchIr.mean([1, 2]);
        Assert.True(MaxAbsDifference(expected.data<float>().ToArray(), maps.SelectMany(m => m).ToArray()) <= 1e-6);
        Assert.All(maps, map => Assert.Equal(1.0, map.Sum(), 5));
    }

    [Fact]
    public void ReportDrawsTheEvaluationTheHistoryAndOneAttentionPicturePerImage()
    {
        var ml = new MLContext(1);
        var options = Pipelines.QuickOptions(epochs: 2);
        options.ValidationFraction = 0.25;
        using var model = Pipelines.Hffer(ml, options).Fit(Pipelines.TrainingSubset(ml, step: 10));
        var testRows = HfferDataCatalog.ReadImageFolder(TestData.Test).Where((_, i) => i % 4 == 0).ToArray();
        var scored = model.Transform(ml.Data.LoadFromEnumerable(testRows));
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        var faces = testRows.GroupBy(r => r.Label).Select(g => g.First()).Take(3).ToArray();
        using var folder = new TemporaryFolder();

        var report = HfferReport.Write(folder.Path, model.LastTransformer, metrics, faces);

        Assert.Equal(testRows.Length, report.ConfusionCounts.Sum(row => row.Sum()));
        Assert.Equal(testRows.Length, report.Classes.Sum(c => c.Support));
        Assert.Equal((592, 572), PngHeader.Size(report.ConfusionMatrix.Path));
        Assert.Equal((TrainingCurvesPicture.Width, TrainingCurvesPicture.Height),
            PngHeader.Size(report.TrainingCurves!.Path));
        Assert.Equal(3, report.AttentionPictures.Count);
        Assert.All(report.AttentionPictures, picture =>
            Assert.Equal((AttentionPicture.Width, AttentionPicture.Height), PngHeader.Size(picture.Path)));
        string markdown = File.ReadAllText(report.MarkdownPath);
        Assert.Contains($"- Test images: {testRows.Length};", markdown);
        Assert.Contains("![Confusion matrix](confusion-matrix.png)", markdown);
        Assert.Equal(2, markdown.Split('\n').Count(line => line.StartsWith("| 1 |") || line.StartsWith("| 2 ")
            || line.StartsWith("| 1 *") || line.StartsWith("| 2 *")));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.partial", SearchOption.AllDirectories));

        // The scorer's maps: same scores as without them, each map a distribution over the 4 x 4 grid.
        using var plain = model.LastTransformer.CreateBatchScorer();
        using var withMaps = model.LastTransformer.CreateBatchScorer(
            new HfferBatchScoringOptions { IncludeAttentionMaps = true });
        var paths = faces.Select(f => f.ImagePath).ToArray();
        var expected = plain.ScoreFiles(paths).ToArray();
        var predictions = withMaps.ScoreFiles(paths).ToArray();
        Assert.Equal(expected.Select(p => p.Score), predictions.Select(p => p.Score));
        Assert.All(expected, p => Assert.Null(p.AttentionMaps));
        Assert.All(predictions, p =>
        {
            Assert.Equal(4, p.AttentionMaps!.GridSize);
            Assert.Equal(1.0, p.AttentionMaps.Ir50.Sum(), 4);
            Assert.Equal(1.0, p.AttentionMaps.FrozenBranch.Sum(), 4);
        });
    }
}
