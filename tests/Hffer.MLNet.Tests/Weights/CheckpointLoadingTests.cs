using Hffer.MLNet.Modeling;
using Hffer.MLNet.Weights;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Weights;

public class CheckpointLoadingTests
{
    [Fact]
    public void HubDinov2CheckpointLoadsIntoThePaperPresetExactly()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "dinov2_vitb14_pretrain.pth");
        var checkpoint = OfficialCheckpoints.Dinov2Hub();
        PyTorchPickler.PickleStateDict(path, checkpoint);
        using var vit = new Dinov2VisionTransformer(HfferArchitecture.Paper);

        var report = PretrainedWeights.LoadDinov2(vit, path, strict: true);

        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(175, report.Matched.Count);
        Assert.True(vit.blocks[11].attn.qkv.weight!.allclose(checkpoint["blocks.11.attn.qkv.weight"], rtol: 0, atol: 0));
        Assert.True(vit.pos_embed.allclose(checkpoint["pos_embed"], rtol: 0, atol: 0));
    }

    [Fact]
    public void HuggingFaceAndHubCheckpointsWithTheSameNumbersGiveTheSameFeatures()
    {
        using var folder = new TemporaryFolder();
        var architecture = HfferArchitecture.Small;
        var hub = OfficialCheckpoints.Dinov2Hub(dim: 96, depth: 2, seed: 4);
        string hubPath = Path.Combine(folder.Path, "hub.pth"), hfPath = Path.Combine(folder.Path, "model.safetensors");
        PyTorchPickler.PickleStateDict(hubPath, hub);
        Safetensors.SaveStateDict(hfPath, OfficialCheckpoints.Dinov2HuggingFace(hub, depth: 2, dim: 96));
        using var fromHub = new Dinov2VisionTransformer(architecture);
        using var fromHuggingFace = new Dinov2VisionTransformer(architecture);

        var hubReport = PretrainedWeights.LoadDinov2(fromHub, hubPath, strict: true);
        var hfReport = PretrainedWeights.LoadDinov2(fromHuggingFace, hfPath, strict: true);
        using var image = randn(2, 3, 112, 112);
        using var hubFeatures = fromHub.call(image);
        using var hfFeatures = fromHuggingFace.call(image);

        Assert.True(hubReport.IsExact && hfReport.IsExact, hubReport + " / " + hfReport);
        Assert.Equal([2L, 96, 8, 8], hubFeatures.shape);
        Assert.True(hubFeatures.allclose(hfFeatures, rtol: 0, atol: 0));
    }

    [Fact]
    public void PosterIr50WithModulePrefixLoadsAndReportsTheUnusedOutputLayer()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "ir50.pth");
        var checkpoint = OfficialCheckpoints.PosterIr50(prefix: "module.");
        PyTorchPickler.PickleStateDict(path, checkpoint);
        using var ir50 = new Ir50(HfferArchitecture.Paper);

        var report = PretrainedWeights.LoadIr50(ir50, path, HfferArchitecture.Paper.Ir50StageUnits, strict: true);

        Assert.Equal(304, checkpoint.Count);
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(292, report.Matched.Count);
        Assert.Equal(12, report.Ignored.Count);
        Assert.All(report.Ignored, key => Assert.StartsWith("output_layer.", key));
        Assert.True(ir50.Units[7].res_layer.state_dict()["1.weight"].allclose(
            checkpoint["module.body.7.res_layer.1.weight"], rtol: 0, atol: 0));
    }

    [Fact]
    public void WrongShapeFailsStrictLoadingNamingTheKeyAndBothShapes()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "ir50.pth");
        var checkpoint = OfficialCheckpoints.PosterIr50();
        checkpoint["body.3.shortcut_layer.0.weight"] = zeros(64, 64, 1, 1);
        PyTorchPickler.PickleStateDict(path, checkpoint);
        using var ir50 = new Ir50(HfferArchitecture.Paper);
        using var before = ir50.input_layer.state_dict()["0.weight"].clone();

        var error = Assert.Throws<InvalidDataException>(() =>
            PretrainedWeights.LoadIr50(ir50, path, HfferArchitecture.Paper.Ir50StageUnits, strict: true));

        Assert.Contains("body.3.shortcut_layer.0.weight: network [128, 64, 1, 1], checkpoint [64, 64, 1, 1]", error.Message);
        Assert.True(ir50.input_layer.state_dict()["0.weight"].allclose(before, rtol: 0, atol: 0), "strict failure must copy nothing");
    }

    [Fact]
    public void NonStrictLoadingCopiesWhatFitsAndReportsTheRest()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "hub.pth");
        var checkpoint = OfficialCheckpoints.Dinov2Hub(dim: 96, depth: 3);
        PyTorchPickler.PickleStateDict(path, checkpoint);
        using var vit = new Dinov2VisionTransformer(HfferArchitecture.Small);

        var report = PretrainedWeights.LoadDinov2(vit, path, strict: false);

        Assert.False(report.IsExact);
        Assert.Equal(14, report.Unexpected.Count);
        Assert.All(report.Unexpected, key => Assert.StartsWith("blocks.2.", key));
        Assert.Empty(report.Missing);
        Assert.True(vit.norm.weight!.allclose(checkpoint["norm.weight"], rtol: 0, atol: 0));
    }

    [Fact]
    public void NonCheckpointFileIsRejectedWithItsPath()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "not-a-checkpoint.pth");
        File.WriteAllText(path, "hello");
        using var vit = new Dinov2VisionTransformer(HfferArchitecture.Small);

        var error = Assert.Throws<InvalidDataException>(() => PretrainedWeights.LoadDinov2(vit, path, strict: true));

        Assert.Contains("not-a-checkpoint.pth", error.Message);
    }

    [Fact]
    public void HuggingFaceDinov2KeysMapOntoThePaperPresetExactly()
    {
        var hub = OfficialCheckpoints.Dinov2Hub();
        var huggingFace = OfficialCheckpoints.Dinov2HuggingFace(hub, depth: 12, dim: 768);
        using var vit = new Dinov2VisionTransformer(HfferArchitecture.Paper);

        var mapped = Dinov2CheckpointMap.ToHub(huggingFace);
        var report = StateDictLoader.Load(vit, mapped, strict: true, _ => false, "model.safetensors", "dinov2");

        Assert.Equal(12 * 18 + 7, huggingFace.Count);
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(175, report.Matched.Count);
        Assert.True(vit.blocks[5].attn.qkv.bias!.allclose(hub["blocks.5.attn.qkv.bias"], rtol: 0, atol: 0));
    }

    [Fact]
    public void StateDictWrapperIsUnwrapped()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "ir50_wrapped.pth");
        var inner = new System.Collections.Hashtable();
        foreach (var (key, value) in OfficialCheckpoints.PosterIr50())
            inner[key] = value;
        PyTorchPickler.PickleStateDict(path, new System.Collections.Hashtable { ["state_dict"] = inner, ["epoch"] = 40L });
        using var ir50 = new Ir50(HfferArchitecture.Paper);

        var report = PretrainedWeights.LoadIr50(ir50, path, HfferArchitecture.Paper.Ir50StageUnits, strict: true);

        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(292, report.Matched.Count);
    }
}
