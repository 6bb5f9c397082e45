using Hffer.MLNet.Data;
using Hffer.MLNet.Modeling;
using Hffer.MLNet.Onnx;
using Hffer.MLNet.Priors;
using Hffer.MLNet.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using static Hffer.MLNet.Tests.FloatComparison;

namespace Hffer.MLNet.Tests.Priors;

/// <summary>Composing foreign ONNX featurizers into prior graphs: ResNet18 from NuGet and a tiny model of ours.</summary>
[Collection("Torch")]
public class OnnxPriorTests
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    [Fact]
    public void ResNet18PriorReproducesThePackagesPreprocessingAndItsLastStageMap()
    {
        using var prior = OnnxPrior.Load(OnnxFeaturizerPrior.ResNet18());
        var random = new Random(8);
        var image = new byte[3 * 224 * 224];
        random.NextBytes(image);
        var pixels = new DenseTensor<float>(image.Select(b => (float)b).ToArray(), [1, 3, 224, 224]);

        // Independent path: the package's own preprocessing model, then the unmodified ResNet18 with its map exposed.
        float[] preprocessed, expectedMap;
        using (var preprocess = new InferenceSession(Path.Combine(Models, "ResNetPrepOnnx", "ResNetPreprocess.onnx")))
        using (var prepared = preprocess.Run([NamedOnnxValue.CreateFromTensor("OriginalInput", pixels)]))
        using (var resnet = new InferenceSession(OnnxGraphEditor.ExposeOutput(
            File.ReadAllBytes(Path.Combine(Models, "ResNet18Onnx", "ResNet18.onnx")), "ReLU393_Output_0",
            [1L, 512L, 7L, 7L])))
        {
            preprocessed = prepared[0].AsEnumerable<float>().ToArray();
            var input = new DenseTensor<float>(preprocessed, [1, 3, 224, 224]);
            using var mapped = resnet.Run([NamedOnnxValue.CreateFromTensor("Input247", input)], ["ReLU393_Output_0"]);
            expectedMap = mapped[0].AsEnumerable<float>().ToArray();
        }

        byte[] withInput = OnnxGraphEditor.ExposeOutput(prior.Model, "Input247", [1L, 3L, 224L, 224L]);
        using var composed = new InferenceSession(withInput);
        using var results = composed.Run([NamedOnnxValue.CreateFromTensor(OnnxPriorGraph.PixelsInput, pixels)],
            ["Input247", OnnxPriorGraph.MapOutput]);
        float[] ourInput = results[0].AsEnumerable<float>().ToArray();
        float[] ourMap = results[1].AsEnumerable<float>().ToArray();

        Assert.Equal(new PriorMapShape(512, 7, 7), prior.MapShape);
        Assert.True(MaxAbsDifference(preprocessed, ourInput) < 1e-4,
            $"input diff {MaxAbsDifference(preprocessed, ourInput)}");
        Assert.True(MaxAbsDifference(expectedMap, ourMap) < 1e-4, $"map diff {MaxAbsDifference(expectedMap, ourMap)}");
        Assert.Equal(expectedMap, prior.Map(image, mirrored: false), Within(1e-4f));
        Assert.True(expectedMap.Max() > 0.1f, "a pretrained ReLU map of a noisy image is not all zero");
    }

    [Fact]
    public void AnyOnnxFeaturizerWorks_TinyRgbModelMatchesTorchSharpOnNormalizedAndMirroredPixels()
    {
        using var folder = new TemporaryFolder();
        torch.manual_seed(4);
        using var conv = nn.Conv2d(3, 4, kernel_size: 3, stride: 2, padding: 1, bias: true);
        string path = Path.Combine(folder.Path, "tiny.onnx");
        string features = WriteTinyFeaturizer(conv, path);
        var description = new OnnxFeaturizerPrior { ModelPath = path, FeatureMapName = features, InputSize = 32 };

        using var prior = OnnxPrior.Load(description);
        var image = new byte[3 * 32 * 32];
        new Random(2).NextBytes(image);

        Assert.Equal(new PriorMapShape(4, 16, 16), prior.MapShape);
        foreach (bool mirrored in new[] { false, true })
        {
            using var scope = NewDisposeScope();
            var pixels = tensor(image.Select(b => (float)b).ToArray(), [1, 3, 32, 32]);
            if (mirrored)
                pixels = pixels.flip(3);
            var mean = tensor(new[] { 0.485f, 0.456f, 0.406f }).reshape(1, 3, 1, 1);
            var std = tensor(new[] { 0.229f, 0.224f, 0.225f }).reshape(1, 3, 1, 1);
            using var noGrad = no_grad();
            float[] expected = nn.functional.relu(conv.call((pixels / 255f - mean) / std)).data<float>().ToArray();

            Assert.Equal(expected, prior.Map(image, mirrored), Within(1e-4f));
        }
    }

    [Fact]
    public void AVitTokenSequenceIsReadAsAGridAfterItsClassToken()
    {
        using var folder = new TemporaryFolder();
        torch.manual_seed(5);
        using var patchify = nn.Conv2d(3, 8, kernel_size: 8, stride: 8, bias: true);
        string path = Path.Combine(folder.Path, "vit.onnx");
        WriteTinyVit(patchify, path);
        using var prior = OnnxPrior.Load(new OnnxFeaturizerPrior
        {
            ModelPath = path, FeatureMapName = TinyVitOutput, InputSize = 32,
        });
        var image = new byte[3 * 32 * 32];
        new Random(3).NextBytes(image);
        var images = new ImageSet([new byte[3 * 8 * 8]], [0], 8, [image], 32);
        var source = new OnnxFeatureSource(prior, grid: 2);
        var features = new float[source.FeatureLength];

        source.Compute(images, [0], mirrored: false, features);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = tensor(image.Select(b => (float)b).ToArray(), [1, 3, 32, 32]);
        var patches = patchify.call(ImageNormalization.Apply(pixels));
        float[] expected = Tokens.FromMap(nn.functional.adaptive_avg_pool2d(patches, [2, 2])).contiguous()
            .data<float>().ToArray();
        Assert.Equal(new PriorMapShape(8, 4, 4, LeadingTokens: 1), prior.MapShape);
        Assert.Equal("token sequence 17x8 (1 leading token(s) dropped, 4x4 grid)", prior.MapShape.ToString());
        Assert.Equal(expected, features, Within(1e-4f));
    }

    [Fact]
    public void NonFiniteFeaturesAreRefusedNamingThePriorAndTheImage()
    {
        using var folder = new TemporaryFolder();
        var (path, features) = TinyFeaturizer(folder.Path);
        using var prior = OnnxPrior.Load(new OnnxFeaturizerPrior
        {
            ModelPath = path, FeatureMapName = features, InputSize = 32, PixelScale = float.MaxValue,
        });
        var image = Enumerable.Repeat((byte)200, 3 * 32 * 32).ToArray();
        var images = new ImageSet([new byte[3 * 8 * 8], new byte[3 * 8 * 8]], [0, 1], 8, [image, image], 32);
        var source = new OnnxFeatureSource(prior, grid: 2);

        var error = Assert.Throws<InvalidDataException>(() =>
            source.Compute(images, [1], mirrored: true, new float[source.FeatureLength]));

        Assert.Equal($"The ONNX prior {path} gave NaN or infinite values in '{features}' for image 1 of the set " +
            "being cached (mirrored). Check its PixelScale, Mean and StandardDeviation, and the model.", error.Message);
    }

    [Fact]
    public void BadDescriptionsAreRefusedByName()
    {
        using var folder = new TemporaryFolder();
        var (path, features) = TinyFeaturizer(folder.Path);
        string garbage = Path.Combine(folder.Path, "garbage.onnx");
        File.WriteAllText(garbage, "not a model");

        var noMap = Assert.Throws<ArgumentException>(() =>
            OnnxPrior.Load(new OnnxFeaturizerPrior { ModelPath = path, FeatureMapName = "nope", InputSize = 32 }));
        var wrongSize = Assert.Throws<ArgumentException>(() =>
            OnnxPrior.Load(new OnnxFeaturizerPrior { ModelPath = path, FeatureMapName = features, InputSize = 64 }));
        var notOnnx = Assert.Throws<InvalidDataException>(() =>
            OnnxPrior.Load(new OnnxFeaturizerPrior { ModelPath = garbage, FeatureMapName = features, InputSize = 32 }));
        var wrongMean = Assert.Throws<ArgumentException>(() => OnnxPrior.Load(
            new OnnxFeaturizerPrior { ModelPath = path, FeatureMapName = features, InputSize = 32, Mean = [1f, 2f] }));
        var missingPackage = Assert.Throws<FileNotFoundException>(() => OnnxFeaturizerPrior.ResNet18(folder.Path));
        var notANumber = Assert.Throws<ArgumentException>(() => OnnxPrior.Load(new OnnxFeaturizerPrior
        {
            ModelPath = path, FeatureMapName = features, InputSize = 32, Mean = [float.NaN, 0.4f, 0.4f],
        }));
        var zeroDeviation = Assert.Throws<ArgumentException>(() => OnnxPrior.Load(new OnnxFeaturizerPrior
        {
            ModelPath = path, FeatureMapName = features, InputSize = 32, StandardDeviation = [0.2f, 0f, 0.2f],
        }));
        var otherMeanImage = Assert.Throws<ArgumentException>(() => OnnxPrior.Load(new OnnxFeaturizerPrior
        {
            ModelPath = path, FeatureMapName = features, InputSize = 32, Mean = new float[3 * 16 * 16],
        }));

        Assert.StartsWith($"No node of {path} produces 'nope'. The last node outputs are ", noMap.Message);
        Assert.Contains(features, noMap.Message);
        Assert.StartsWith($"Input 'image' of {path} has shape [-1, 3, 32, 32]; the prior needs [1, 3, 64, 64]",
            wrongSize.Message);
        Assert.Contains(garbage, notOnnx.Message);
        Assert.StartsWith("Mean has 2 values; expected 3 (per channel) or 3072", wrongMean.Message);
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0", missingPackage.Message);
        Assert.StartsWith("Mean holds a NaN or infinite value.", notANumber.Message);
        Assert.StartsWith("StandardDeviation must hold 3 positive values, got [0.2, 0, 0.2].", zeroDeviation.Message);
        Assert.Contains("It is a mean image for InputSize 16;", otherMeanImage.Message);
        Assert.Contains("download, restore or export it again", notOnnx.Message);
    }

    [Fact]
    public void AMapSmallerThanTheTokenGridIsLoggedAndWarnedAbout()
    {
        var resnet = OnnxFeaturizerPrior.ResNet18();
        using var pooled = OnnxPrior.Load(new OnnxFeaturizerPrior
        {
            ModelPath = resnet.ModelPath, FeatureMapName = "Pooling395_Output_0", InputName = resnet.InputName,
            ChannelOrder = resnet.ChannelOrder, PixelScale = resnet.PixelScale, Mean = resnet.Mean,
            StandardDeviation = resnet.StandardDeviation,
        });
        var infos = new List<string>();
        var warnings = new List<string>();

        HfferEstimator.DescribePrior(pooled, HfferArchitecture.Small, infos.Add, warnings.Add);

        Assert.Equal(new PriorMapShape(512, 1, 1), pooled.MapShape);
        Assert.Contains("'Pooling395_Output_0' 512x1x1 at 224 px, average-pooled to 4x4 and projected to 96.",
            Assert.Single(infos));
        Assert.StartsWith("The prior's map 'Pooling395_Output_0' is 1x1, smaller than the 4x4 token grid",
            Assert.Single(warnings));
    }

    [Fact]
    public void OptionsRefuseAnOnnxPriorTogetherWithDinov2WeightsOrWithoutTheCache()
    {
        var prior = new OnnxFeaturizerPrior { ModelPath = Path.Combine(Models, "ResNet18Onnx", "ResNet18.onnx"),
            FeatureMapName = "ReLU393_Output_0" };
        var ml = new Microsoft.ML.MLContext(1);

        var withDinov2 = Assert.Throws<ArgumentException>(() =>
            ml.Transforms.Hffer(new HfferOptions { OnnxPrior = prior, Dinov2Checkpoint = "dinov2.pth" }));
        var uncached = Assert.Throws<ArgumentException>(() =>
            ml.Transforms.Hffer(new HfferOptions { OnnxPrior = prior, FeatureCache = FeatureCacheMode.None }));
        var augmented = Assert.Throws<ArgumentException>(() =>
            ml.Transforms.Hffer(new HfferOptions { OnnxPrior = prior, AugmentFrozenBranch = true }));

        Assert.StartsWith("Dinov2Checkpoint and OnnxPrior are both set", withDinov2.Message);
        Assert.StartsWith("FeatureCache is None, but an OnnxPrior runs in ONNX Runtime", uncached.Message);
        Assert.StartsWith("AugmentFrozenBranch is set, but an OnnxPrior", augmented.Message);
    }

    /// <summary>image [N, 3, 32, 32] → Conv (stride 2) → Relu → spatial mean ("pooled", the only output).</summary>
    /// <returns>The name of the Relu output, the feature map.</returns>
    internal static string WriteTinyFeaturizer(TorchSharp.Modules.Conv2d conv, string path)
    {
        var graph = new OnnxGraphBuilder();
        string image = graph.Input("image", OnnxDataType.Float, "N", 3L, 32L, 32L);
        string features = graph.Relu(graph.Conv(image, conv, "conv", stride: 2, padding: 1));
        string pooled = graph.ReduceMean(features, [2, 3], keepDims: false);
        graph.Output(pooled, "pooled", OnnxDataType.Float, "N", conv.weight!.shape[0]);
        using var stream = File.Create(path);
        graph.Build("tiny").WriteTo(stream);
        return features;
    }

    /// <summary>The output of <see cref="WriteTinyVit"/>, named as Hugging Face exports name it.</summary>
    internal const string TinyVitOutput = "last_hidden_state";

    /// <summary>
    /// A ViT-shaped featurizer: image [N, 3, 32, 32] → 8x8 patches (conv) → 16 tokens of width 8, preceded by a
    /// class token (their mean) → <see cref="TinyVitOutput"/> [N, 17, 8].
    /// </summary>
    internal static void WriteTinyVit(TorchSharp.Modules.Conv2d patchify, string path)
    {
        var graph = new OnnxGraphBuilder();
        string image = graph.Input("pixel_values", OnnxDataType.Float, "N", 3L, 32L, 32L);
        string tokens = TokenEmitter.FromMap(graph, graph.Conv(image, patchify, "patch", stride: 8, padding: 0), 8);
        string classToken = graph.ReduceMean(tokens, [1], keepDims: true);
        graph.Output(graph.Concat(1, classToken, tokens), TinyVitOutput, OnnxDataType.Float, "N", 17L, 8L);
        using var stream = File.Create(path);
        graph.Build("tiny-vit").WriteTo(stream);
    }

    /// <summary>
    /// Writes <see cref="WriteTinyFeaturizer"/>'s model with a fresh convolution of <paramref name="channels"/>
    /// outputs to <c>tiny.onnx</c> in <paramref name="folder"/>; returns its path and feature map name.
    /// </summary>
    internal static (string Path, string Features) TinyFeaturizer(string folder, int channels = 4)
    {
        using var conv = nn.Conv2d(3, channels, kernel_size: 3, stride: 2, padding: 1, bias: true);
        string path = Path.Combine(folder, "tiny.onnx");
        return (path, WriteTinyFeaturizer(conv, path));
    }
}
