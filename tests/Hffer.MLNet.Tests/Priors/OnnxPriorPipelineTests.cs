using System.Globalization;
using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Onnx;
using Hffer.MLNet.Priors;
using Hffer.MLNet.Tests.Training;
using Hffer.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;
using static Hffer.MLNet.Tests.FloatComparison;

namespace Hffer.MLNet.Tests.Priors;

/// <summary>Training and scoring with the ResNet18 prior through the ML.NET chain, on real faces.</summary>
[Collection("Torch")]
public class OnnxPriorPipelineTests
{
    private static readonly string[] Classes = Pipelines.ShuffledClassOrder;

    [Fact]
    public void ChainedScoringEqualsTheTorchSharpForwardOnTheTrainingTimePriorFeatures()
    {
        var ml = new MLContext(1);
        var view = Keyed(ml, Pipelines.TrainingSubset(ml, step: 20));
        using var prior = OnnxPrior.Load(OnnxFeaturizerPrior.ResNet18());
        var options = Pipelines.QuickOptions();
        var pipeline = new ScoringPipeline(ml.Transforms, options, 112, prior.InputSize);
        ImageSet Read() => ImageSetReader.Read(view, pipeline.Preprocessing().Fit(view).Transform(view),
            pipeline.Pixels, pipeline.PriorPixels, "Label", Classes.Length, CancellationToken.None);
        var settings = TrainerInputs.Settings() with { ClassCount = Classes.Length, Epochs = 1, OnnxPrior = prior };
        using var network = new HfferTrainer(settings, _ => { }).Train(Read(), null, CancellationToken.None);

        // Training-time path: ONNX Runtime features of the prior's pixels, pooled by TorchSharp, then Classify.
        var images = Read();
        var (expected, features) = TrainingTimeForward(network, prior, images, Enumerable.Range(0, images.Count));

        byte[] onnx = HfferOnnxExporter.ExportToBytes(network, pipeline.ExportNames, Classes);
        var scoring = pipeline.Build(view, onnx, Classes, prior.Model);
        float[] actual = scoring.Transform(view).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();
        (scoring as IDisposable)?.Dispose();

        double worst = MaxAbsDifference(expected, actual);
        Console.WriteLine($"ResNet18 prior: chained ML.NET scoring vs TorchSharp forward, max |diff| {worst:E2} " +
            $"over {images.Count} images");
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(worst <= 1e-4, $"max |diff| = {worst}");
        Assert.True(features.Max() > 0.1f, "pretrained ResNet18 features of faces are not all zero");
    }

    [Fact]
    public void FitWithTheResNet18PriorSavesAndReloadsWithIdenticalPredictions()
    {
        using var folder = new TemporaryFolder();
        var ml = new MLContext(1);
        var rows = HfferDataCatalog.ReadImageFolder(TestData.Train).Where((_, i) => i % 20 == 0).ToArray();
        var training = ml.Data.LoadFromEnumerable(rows);
        var options = Pipelines.QuickOptions();
        options.OnnxPrior = OnnxFeaturizerPrior.ResNet18();
        var model = Pipelines.Hffer(ml, options).Fit(training);
        var hffer = model.LastTransformer;
        string path = Path.Combine(folder.Path, "model.zip");
        ml.Model.Save(model, training.Schema, path);

        var scored = model.Transform(training);
        var original = scored.GetColumn<float[]>("Score").ToArray();
        var reloaded = new MLContext(2).Model.Load(path, out _).Transform(training).GetColumn<float[]>("Score")
            .ToArray();

        // A separate process with ML.NET and ONNX Runtime only, no Hffer.MLNet assembly, scores the same.
        string list = Path.Combine(folder.Path, "images.txt"), output = Path.Combine(folder.Path, "scores.txt");
        File.WriteAllLines(list, rows.Select(r => r.ImagePath + "\t" + r.Label));
        HfferPipelineTests.RunProbe(path, list, output);
        var expected = scored.GetColumn<uint>("PredictedLabel").Zip(original, (key, s) =>
            key.ToString(CultureInfo.InvariantCulture) + " " +
            string.Join(" ", s.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));

        long resnetBytes = new FileInfo(OnnxFeaturizerPrior.ResNet18().ModelPath).Length;
        Assert.True(hffer.PriorOnnxModel.Length > resnetBytes, "the prior graph holds the ResNet18 weights");
        Assert.True(new FileInfo(path).Length > resnetBytes / 2, "the zip holds the prior graph (compressed)");
        Assert.Equal(14, original.Length);
        Assert.Equal(original, reloaded);
        Assert.Equal(expected, File.ReadAllLines(output));
        string priorFile = Path.Combine(folder.Path, "prior.onnx");
        hffer.SavePriorOnnx(priorFile);
        Assert.Equal(hffer.PriorOnnxModel.ToArray(), File.ReadAllBytes(priorFile));
        model.Dispose();
    }

    [Fact]
    public void ExportedNetworkReadsATokenSequencePriorAsTrainingDoes()
    {
        using var folder = new TemporaryFolder();
        manual_seed(6);
        using var patchify = nn.Conv2d(3, 8, kernel_size: 8, stride: 8, bias: true);
        string path = Path.Combine(folder.Path, "vit.onnx");
        OnnxPriorTests.WriteTinyVit(patchify, path);
        using var prior = OnnxPrior.Load(new OnnxFeaturizerPrior
        {
            ModelPath = path, FeatureMapName = OnnxPriorTests.TinyVitOutput, InputSize = 32,
        });
        using var network = new HfferNetwork(HfferArchitecture.Small, 3, prior.MapShape);
        network.eval();
        var images = ImagesWithPriorCopies();
        int[] indices = [0, 5, 11];
        var (expected, _) = TrainingTimeForward(network, prior, images, indices);

        var names = OnnxExportNames.Default;
        using var priorSession = new Microsoft.ML.OnnxRuntime.InferenceSession(prior.Model);
        using var networkSession = new Microsoft.ML.OnnxRuntime.InferenceSession(
            HfferOnnxExporter.ExportToBytes(network, names));
        var actual = indices.SelectMany(index =>
        {
            using var map = priorSession.Run([Input(OnnxPriorGraph.PixelsInput, images.PriorImage(index), 32)],
                [OnnxPriorGraph.MapOutput]);
            using var scores = networkSession.Run(
            [
                Input(names.Pixels, images.Image(index), 112),
                Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(names.PriorMap, map[0].AsTensor<float>()),
            ], [names.Probabilities]);
            return scores[0].AsEnumerable<float>().ToArray();
        }).ToArray();

        double worst = MaxAbsDifference(expected, actual);
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(worst <= 1e-4, $"max |diff| = {worst}");
    }

    /// <summary>
    /// Softmax of TorchSharp's forward on the prior features training computes (ONNX Runtime map, pooled by
    /// TorchSharp), and those features.
    /// </summary>
    private static (float[] Probabilities, float[] Features) TrainingTimeForward(HfferNetwork network, OnnxPrior prior,
        ImageSet images, IEnumerable<int> rows)
    {
        int[] indices = [.. rows];
        int grid = network.Architecture.TokenGrid;
        var source = new OnnxFeatureSource(prior, grid);
        var features = new float[indices.Length * source.FeatureLength];
        source.Compute(images, indices, mirrored: false, features);

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var tokens = tensor(features, [indices.Length, grid * grid, prior.MapShape.Channels]);
        var logits = network.Classify(ImageNormalization.Apply(images.Pixels(indices, CPU)), tokens);
        return (logits.softmax(1).data<float>().ToArray(), features);
    }

    private static Microsoft.ML.OnnxRuntime.NamedOnnxValue Input(string name, ReadOnlySpan<byte> image, int size) =>
        Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(name,
            new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(image.ToArray().Select(b => (float)b).ToArray(),
                [1, 3, size, size]));

    [Fact]
    public void ResumingWithAnotherPriorIsRefusedAndTheDiskCacheIsKeyedByThePrior()
    {
        using var folder = new TemporaryFolder();
        var (path, features) = OnnxPriorTests.TinyFeaturizer(folder.Path, channels: 8);
        using var prior = OnnxPrior.Load(new OnnxFeaturizerPrior
        {
            ModelPath = path, FeatureMapName = features, InputSize = 32,
        });
        var settings = TrainerInputs.Settings() with
        {
            Epochs = 1, OnnxPrior = prior, CheckpointDirectory = Path.Combine(folder.Path, "checkpoints"),
            FeatureCache = FeatureCacheMode.Disk, FeatureCacheDirectory = Path.Combine(folder.Path, "cache"),
        };
        using (var network = new HfferTrainer(settings, _ => { }).Train(ImagesWithPriorCopies(), null, default))
            Assert.NotNull(network.prior_proj);

        string cacheFolder = Assert.Single(Directory.GetDirectories(settings.FeatureCacheDirectory!));
        var error = Assert.Throws<InvalidDataException>(() => new HfferTrainer(
            settings with { OnnxPrior = null, ResumeFromCheckpoint = true, Epochs = 2 }, _ => { })
            .Train(ImagesWithPriorCopies(), null, default));

        Assert.Equal(prior.FeatureIdentity(4), Path.GetFileName(cacheFolder));
        Assert.NotEqual(prior.FeatureIdentity(4), prior.FeatureIdentity(7));
        Assert.Equal(12 * 2, Directory.GetFiles(cacheFolder).Length);
        Assert.Contains($"it was trained with the ONNX prior tiny.onnx '{features}' " +
            $"(identity {prior.FeatureIdentity(4)}), " +
            "this training has the DINOv2 branch with random weights (seed 2)", error.Message);
    }

    /// <summary>Random 112-pixel images with 32-pixel copies for the tiny prior.</summary>
    private static ImageSet ImagesWithPriorCopies()
    {
        var images = TrainerInputs.RandomImages(12, 3);
        var random = new Random(6);
        var copies = Enumerable.Range(0, images.Count).Select(_ =>
        {
            var copy = new byte[3 * 32 * 32];
            random.NextBytes(copy);
            return copy;
        }).ToArray();
        var originals = Enumerable.Range(0, images.Count).Select(i => images.Image(i).ToArray()).ToArray();
        return new ImageSet(originals, images.Labels, images.ImageSize, copies, 32);
    }

    private static IDataView Keyed(MLContext ml, IDataView data)
    {
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyData: Pipelines.ClassNames(ml, Classes))
            .Fit(data).Transform(data);
        return ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: "ImagePath").Fit(keyed)
            .Transform(keyed);
    }
}
