using Hffer.MLNet.Modeling;
using Hffer.MLNet.Training;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Training;

public class PriorFeatureCacheTests
{
    private const string FilledMirrored = "Computing prior features of the training images and their mirror images: ";

    [Fact]
    public void CachedTokensEqualTheFrozenBranchOnEachImageAndItsMirrorImage()
    {
        var images = TrainerInputs.RandomImages(5, 3);
        manual_seed(11);
        using var network = new HfferNetwork(HfferArchitecture.Small, 3);
        network.eval();
        var store = new MemoryFeatureStore(images.Count, new Dinov2FeatureSource(network, CPU).FeatureLength);

        var cache = PriorFeatureCache.Fill(new Dinov2FeatureSource(network, CPU), images, withMirrors: true, store, 16,
            "test", _ => { },
            CancellationToken.None);
        int[] indices = [3, 0, 4];
        bool[] mirrored = [true, false, true];
        using var cached = cache.Tokens(indices, mirrored, CPU);

        for (int i = 0; i < indices.Length; i++)
        {
            using var pixels = images.Pixels([indices[i]], CPU);
            using var input = mirrored[i] ? pixels.flip(3) : pixels.alias();
            using var normalized = ImageNormalization.Apply(input);
            using var direct = network.PriorTokens(normalized);
            using var row = cached[i].unsqueeze(0);
            Assert.True(direct.allclose(row, rtol: 0, atol: 1e-5), $"image {indices[i]}, mirrored {mirrored[i]}");
        }
        Assert.Equal(new long[] { 3, 16, 96 }, cached.shape);
    }

    [Fact]
    public void TrainingWithTheCacheMatchesTrainingWithoutIt()
    {
        var images = TrainerInputs.RandomImages(12, 3);
        var settings = TrainerInputs.Settings() with { Epochs = 2 };
        var cachedLog = new List<string>();
        var plainLog = new List<string>();

        using var cached = new HfferTrainer(settings, cachedLog.Add).Train(images, null, CancellationToken.None);
        using var plain = new HfferTrainer(settings with { FeatureCache = FeatureCacheMode.None }, plainLog.Add)
            .Train(images, null, CancellationToken.None);

        // Same draws, same steps; only the batch composition of the frozen forward differs, a float rounding matter.
        Assert.Contains(cachedLog, m => m.StartsWith(FilledMirrored + "24 of 24"));
        Assert.Contains(plainLog, m => m.StartsWith("Prior feature cache off"));
        foreach (var (key, value) in cached.TrainableState())
            Assert.True(value.allclose(plain.state_dict()[key], rtol: 1e-3, atol: 1e-4), key);
        manual_seed(settings.Seed);
        using var untrained = new HfferNetwork(HfferArchitecture.Small, 3);
        Assert.False(cached.head.weight!.allclose(untrained.head.weight!, rtol: 1e-3, atol: 1e-4));
    }

    [Fact]
    public void AugmentingTheFrozenBranchBypassesTheCache()
    {
        var log = new List<string>();
        var settings = TrainerInputs.Settings() with { Epochs = 1, AugmentFrozenBranch = true };

        using var network = new HfferTrainer(settings, log.Add)
            .Train(TrainerInputs.RandomImages(6, 3), null, CancellationToken.None);

        Assert.Contains(log, m => m.StartsWith("Prior feature cache bypassed"));
        Assert.DoesNotContain(log, m => m.StartsWith("Computing prior features"));
    }

    [Fact]
    public void DiskCacheIsReusedByTheNextRunAndKeyedByTheFrozenWeights()
    {
        using var folder = new TemporaryFolder();
        var images = TrainerInputs.RandomImages(6, 3);
        var settings = TrainerInputs.Settings() with
        {
            Epochs = 1,
            FeatureCache = FeatureCacheMode.Disk,
            FeatureCacheDirectory = folder.Path,
        };
        var first = new List<string>();
        var second = new List<string>();
        var otherWeights = new List<string>();

        using var inMemory = new HfferTrainer(settings with { FeatureCache = FeatureCacheMode.Memory }, _ => { })
            .Train(images, null, CancellationToken.None);
        using var filling = new HfferTrainer(settings, first.Add).Train(images, null, CancellationToken.None);
        using var reading = new HfferTrainer(settings, second.Add).Train(images, null, CancellationToken.None);
        using (new HfferTrainer(settings with { Seed = 3 }, otherWeights.Add).Train(images, null, CancellationToken.None)) { }

        // One folder per frozen-weight identity, one file per image and variant, each 16 tokens x 96 floats.
        var folders = Directory.GetDirectories(folder.Path);
        Assert.Equal(2, folders.Length);
        Assert.All(folders, f => Assert.Equal(12, Directory.GetFiles(f, "*.f32").Length));
        Assert.All(Directory.GetFiles(folders[0]), f => Assert.Equal(16 * 96 * 4, new FileInfo(f).Length));
        Assert.Contains(first, m => m.StartsWith(FilledMirrored + "12 of 12"));
        Assert.Contains(second, m => m == "Prior features of the training images: all 12 found in the cache.");
        Assert.Contains(otherWeights, m => m.StartsWith(FilledMirrored + "12 of 12"));
        Assert.Empty(TrainerInputs.DifferingKeys(inMemory, filling));
        Assert.Empty(TrainerInputs.DifferingKeys(inMemory, reading));
    }
}
