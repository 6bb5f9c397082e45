using Hffer.MLNet.Modeling;
using Hffer.MLNet.Tests.Weights;
using Hffer.MLNet.Weights;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Onnx;

public class PretrainedExportTests
{
    [Fact]
    public void PaperPresetWithOfficialCheckpointsExportsWithParity()
    {
        using var folder = new TemporaryFolder();
        string dinov2 = Path.Combine(folder.Path, "dinov2_vitb14_pretrain.pth"), ir50 = Path.Combine(folder.Path, "ir50.pth");
        PyTorchPickler.PickleStateDict(dinov2, OfficialCheckpoints.Dinov2Hub(seed: 2));
        PyTorchPickler.PickleStateDict(ir50, OfficialCheckpoints.PosterIr50(prefix: "module."));
        using var network = TestNetworks.Random(HfferArchitecture.Paper, classes: 7, seed: 8);
        Assert.True(PretrainedWeights.LoadDinov2(network.dinov2!, dinov2, strict: true).IsExact);
        Assert.True(PretrainedWeights.LoadIr50(network.ir50, ir50, HfferArchitecture.Paper.Ir50StageUnits, true).IsExact);
        network.eval();
        using var pixels = TestNetworks.Pixels(batch: 1, 224, seed: 12);

        var parity = OnnxParity.Run(network, pixels);

        double difference = parity.MaxAbsDifference;
        var operators = parity.Model.Graph.Nodes.GroupBy(n => n.OpType).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Count()}");
        Console.WriteLine($"paper preset, official-layout weights: {parity.ModelBytes:N0} bytes, max |diff| " +
            $"{difference:E2}, {parity.Model.Graph.Nodes.Count} nodes: {string.Join(", ", operators)}");
        Assert.True(difference <= 1e-4, $"max |diff| = {difference}");
    }
}
