using Hffer.MLNet.Modeling;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Modeling;

public class ArchitectureTests
{
    [Fact]
    public void PaperPresetHasTheReferenceTokenGridAndBranchSizes()
    {
        var paper = HfferArchitecture.Paper;

        Assert.Equal(7, paper.TokenGrid);
        Assert.Equal(112, paper.Ir50InputSize);
        Assert.Equal(16, paper.VitPatchGrid);
        Assert.Equal(4, HfferArchitecture.Small.TokenGrid);
    }

    [Fact]
    public void PaperDinov2HasTheViTB14ParameterCountAndHubKeys()
    {
        using var vit = new Dinov2VisionTransformer(HfferArchitecture.Paper);
        var state = vit.state_dict();

        // 12 blocks x 14 tensors + cls_token, pos_embed, mask_token, patch_embed.proj.{weight,bias}, norm.{weight,bias}.
        Assert.Equal(175, state.Count);
        Assert.Equal([1L, 1370, 768], state["pos_embed"].shape);
        Assert.Equal([2304L, 768], state["blocks.11.attn.qkv.weight"].shape);
        Assert.Equal([768L], state["blocks.0.ls1.gamma"].shape);
        Assert.Equal([768L, 3, 14, 14], state["patch_embed.proj.weight"].shape);
        Assert.Equal(86_580_480L, vit.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void PaperIr50HasPosterKeysIncludingBothShortcutKinds()
    {
        using var ir50 = new Ir50(HfferArchitecture.Paper);
        var state = ir50.state_dict();

        Assert.Equal([64L, 3, 3, 3], state["input_layer.0.weight"].shape);
        Assert.Equal([128L, 64, 1, 1], state["body.3.shortcut_layer.0.weight"].shape);
        Assert.Equal([256L, 128, 1, 1], state["body.7.shortcut_layer.0.weight"].shape);
        Assert.Equal([256L, 256, 3, 3], state["body.20.res_layer.3.weight"].shape);
        Assert.DoesNotContain("body.0.shortcut_layer.0.weight", state.Keys);
        Assert.DoesNotContain("body.21.res_layer.0.weight", state.Keys);

        // POSTER's 304 checkpoint entries minus the 12 of its unused output_layer.
        Assert.Equal(292, state.Count);
    }

    [Fact]
    public void SmallNetworkMapsABatchToClassLogitsAndTrainsOnlyNonDinoParameters()
    {
        torch.manual_seed(1);
        using var network = new HfferNetwork(HfferArchitecture.Small, classCount: 5);
        using var image = randn(2, 3, 112, 112);

        using var logits = network.call(image);

        Assert.Equal([2L, 5], logits.shape);
        Assert.All(network.dinov2!.parameters(), p => Assert.False(p.requires_grad));
        Assert.True(network.TrainableParameters().Any());
        long total = network.parameters().Sum(p => p.numel()), frozen = network.dinov2!.parameters().Sum(p => p.numel());
        Assert.Equal(total - frozen, network.TrainableParameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData(113, "InputSize")]
    [InlineData(120, "multiple of VitPatchSize")]
    public void InvalidSizesAreRejectedWithTheirName(int inputSize, string expected)
    {
        var architecture = HfferArchitecture.Small with { InputSize = inputSize };

        var error = Assert.Throws<ArgumentException>(architecture.Validate);

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void PositionTableIsInterpolatedWithTheHubScaleFactor()
    {
        using var vit = new Dinov2VisionTransformer(HfferArchitecture.Small);
        using var table = vit.PositionEmbeddingFor(8);

        // Independent computation of the same bicubic resize: explicit scale (8 + 0.1) / 37, CLS row kept.
        using var grid = vit.pos_embed.detach()[.., 1..].reshape(1, 37, 37, 96).permute(0, 3, 1, 2);
        using var expected = nn.functional.interpolate(grid, scale_factor: [8.1 / 37, 8.1 / 37],
            mode: InterpolationMode.Bicubic, align_corners: false).permute(0, 2, 3, 1).reshape(1, 64, 96);

        Assert.Equal([1L, 65, 96], table.shape);
        Assert.True(table[.., 0].allclose(vit.pos_embed.detach()[.., 0], rtol: 0, atol: 0));
        Assert.True(table[.., 1..].allclose(expected, rtol: 0, atol: 1e-6));
        Assert.False(table[.., 1..].allclose(nn.functional.interpolate(grid, size: [8, 8],
            mode: InterpolationMode.Bicubic, align_corners: false).permute(0, 2, 3, 1).reshape(1, 64, 96), atol: 1e-6));
    }

    [Fact]
    public void FrozenPositionTableIsResizedOnceAndRecomputedAfterNewWeights()
    {
        using var vit = new Dinov2VisionTransformer(HfferArchitecture.Small);
        vit.pos_embed.requires_grad = false;

        using var first = vit.PositionEmbeddingFor(8);
        using var second = vit.PositionEmbeddingFor(8);
        using (no_grad())
            vit.pos_embed.add_(1);
        using var stale = vit.PositionEmbeddingFor(8);
        vit.ForgetPositionTables();
        using var fresh = vit.PositionEmbeddingFor(8);

        Assert.True(second.allclose(first, rtol: 0, atol: 0));
        Assert.True(stale.allclose(first, rtol: 0, atol: 0));
        Assert.True((fresh - first).allclose(ones_like(first), rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void GrayscaleJpegBecomesThreeEqualChannelsInThePipelinePixels()
    {
        var ml = new Microsoft.ML.MLContext();
        var rows = Hffer.MLNet.Data.HfferDataCatalog.ReadImageFolder(TestData.Train).Take(1);
        var images = ml.Transforms.LoadImages("Image", null, "ImagePath").Fit(ml.Data.LoadFromEnumerable(rows))
            .Transform(ml.Data.LoadFromEnumerable(rows));
        var pipeline = new ScoringPipeline(ml.Transforms, new HfferOptions(), imageSize: 112, priorImageSize: null);

        var pixels = pipeline.Preprocessing().Fit(images).Transform(images)
            .GetColumn<float[]>(pipeline.Pixels.Name).Single();

        int plane = 112 * 112;
        Assert.Equal(3 * plane, pixels.Length);
        Assert.Equal(pixels[..plane], pixels[plane..(2 * plane)]);
        Assert.Equal(pixels[..plane], pixels[(2 * plane)..]);
        Assert.True(pixels[..plane].Distinct().Count() > 50, "a face should have many grey levels");
    }
}
