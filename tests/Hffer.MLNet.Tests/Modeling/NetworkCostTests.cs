using Hffer.MLNet.Modeling;

namespace Hffer.MLNet.Tests.Modeling;

public class NetworkCostTests
{
    [Fact]
    public void PaperPresetCostsAreTheDocumentedOnes()
    {
        using var network = new HfferNetwork(HfferArchitecture.Paper, classCount: 7);

        var parts = NetworkCost.Measure(network).ToDictionary(p => p.Part);

        Assert.Equal(17_611_968, parts["ir50"].Parameters);
        Assert.Equal(862_720, parts["ir adapter"].Parameters);
        Assert.Equal(86_580_480, parts["dinov2"].Parameters);
        Assert.Equal(189_983_088, parts["fusion"].Parameters);
        Assert.Equal(6_919, parts["classifier"].Parameters);
        Assert.Equal(295_045_175, parts.Values.Sum(p => p.Parameters));
        Assert.Equal(208_464_695, network.TrainableParameters().Sum(p => p.numel()));
        Assert.Equal(10.936, parts["ir50"].ForwardFlops / 1e9, 3);
        Assert.Equal(46.322, parts["dinov2"].ForwardFlops / 1e9, 3);
        Assert.Equal(18.681, parts["fusion"].ForwardFlops / 1e9, 3);
        Assert.Equal(76.017, parts.Values.Sum(p => p.ForwardFlops) / 1e9, 3);
        Assert.Equal(14_294_574, network.fusion[0].hffe!.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void LitePlacementAndSmallPresetCostsAreTheDocumentedOnes()
    {
        using var lite = new HfferNetwork(HfferArchitecture.Paper with { HffePlacement = HffePlacement.AfterStack }, 7);
        using var small = new HfferNetwork(HfferArchitecture.Small, 7);

        var liteParts = NetworkCost.Measure(lite).ToDictionary(p => p.Part);
        var smallParts = NetworkCost.Measure(small);

        Assert.Equal(75_626_496, liteParts["fusion"].Parameters);
        Assert.Equal(14_294_574, liteParts["hffe"].Parameters);
        Assert.Equal(194_983_157, liteParts.Values.Sum(p => p.Parameters));
        Assert.Equal(66.248, liteParts.Values.Sum(p => p.ForwardFlops) / 1e9, 3);
        Assert.Equal(2_023_083, smallParts.Sum(p => p.Parameters));
        Assert.Equal(1_610_571, small.TrainableParameters().Sum(p => p.numel()));
        Assert.Equal(0.321, smallParts.Sum(p => p.ForwardFlops) / 1e9, 3);
    }

    [Fact]
    public void AnOnnxPriorReplacesTheDinov2BranchByATrainableProjection()
    {
        using var dinov2 = new HfferNetwork(HfferArchitecture.Small, 7);
        using var resnet = new HfferNetwork(HfferArchitecture.Small, 7, new PriorMapShape(512, 7, 7));

        var parts = NetworkCost.Measure(resnet).ToDictionary(p => p.Part);
        long projection = 512 * 96 + 96;

        Assert.Null(resnet.dinov2);
        Assert.DoesNotContain("dinov2", parts.Keys);
        Assert.Equal(projection, parts["prior projection"].Parameters);
        Assert.Equal(2.0 * 512 * 96 * 16, parts["prior projection"].ForwardFlops);
        Assert.Equal(dinov2.TrainableParameters().Sum(p => p.numel()) + projection,
            resnet.TrainableParameters().Sum(p => p.numel()));
        Assert.Equal(1_659_819, parts.Values.Sum(p => p.Parameters));
        Assert.All(resnet.state_dict().Keys, key => Assert.False(key.StartsWith(HfferNetwork.FrozenPrefix)));
    }

    [Fact]
    public void ArchitectureDocumentQuotesTheAssertedNumbers()
    {
        string document = File.ReadAllText(Path.Combine(TestData.FolderAbove("Hffer.MLNet.sln"), "docs", "architecture.md"));

        foreach (string number in new[] { "17,611,968", "86,580,480", "189,983,088", "295,045,175", "208,464,695",
                     "76.017", "14,294,574", "194,983,157", "66.248", "2,023,083", "0.321", "1,659,819" })
            Assert.Contains(number, document);
    }
}
