using Hffer.MLNet.Modeling;
using Hffer.MLNet.Onnx;
using Hffer.MLNet.Tests.Weights;
using Hffer.MLNet.Weights;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
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
        Assert.True(PretrainedWeights.LoadDinov2(network.dinov2, dinov2, strict: true).IsExact);
        Assert.True(PretrainedWeights.LoadIr50(network.ir50, ir50, HfferArchitecture.Paper.Ir50StageUnits, true).IsExact);
        network.eval();
        using var pixels = TestNetworks.Pixels(batch: 1, 224, seed: 12);

        float[] expected;
        using (no_grad())
        using (var logits = network.call(ImageNormalization.Apply(pixels)))
            expected = logits.softmax(1).data<float>().ToArray();
        var model = HfferOnnxExporter.Build(network, OnnxExportNames.Default);
        using var stream = new MemoryStream();
        model.WriteTo(stream);
        using var session = new InferenceSession(stream.ToArray());
        var input = new DenseTensor<float>(pixels.data<float>().ToArray(), [1, 3, 224, 224]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("pixels", input)]);
        float[] onnx = results.First(r => r.Name == "Score").AsEnumerable<float>().ToArray();

        double difference = expected.Zip(onnx, (a, b) => Math.Abs(a - b)).Max();
        var operators = model.Graph.Nodes.GroupBy(n => n.OpType).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Count()}");
        Console.WriteLine($"paper preset, official-layout weights: {stream.Length:N0} bytes, max |diff| {difference:E2}, " +
            $"{model.Graph.Nodes.Count} nodes: {string.Join(", ", operators)}");
        Assert.True(difference <= 1e-4, $"max |diff| = {difference}");
    }
}
