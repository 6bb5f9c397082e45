using Hffer.MLNet.Modeling;
using Hffer.MLNet.Onnx;
using TorchSharp;
using static TorchSharp.torch;
using static Hffer.MLNet.Tests.FloatComparison;

namespace Hffer.MLNet.Tests.Onnx;

[Collection("Torch")]
public class OnnxParityTests
{
    [Theory]
    [InlineData(HffePlacement.EveryModule, false, true)]
    [InlineData(HffePlacement.AfterStack, true, false)]
    public void SmallPresetOnnxMatchesTorchSharpEvalForward(HffePlacement placement, bool crossed, bool cbr3)
    {
        var architecture = HfferArchitecture.Small with
        {
            HffePlacement = placement, HffeCrossedCalibration = crossed, HffeUseCbr3 = cbr3,
        };
        using var network = TestNetworks.Random(architecture, classes: 7, seed: 11);
        using var pixels = TestNetworks.Pixels(batch: 3, architecture.InputSize, seed: 5);

        var (expected, onnx) = Compare(network, pixels);

        Assert.Equal(expected.Length, onnx.Length);
        Console.WriteLine($"small {placement}: max abs diff {MaxAbsDifference(expected, onnx):E2}, p0={onnx[0]}");
        Assert.True(MaxAbsDifference(expected, onnx) <= 1e-4, $"max |diff| = {MaxAbsDifference(expected, onnx)}");
        Assert.Equal(1.0, onnx.Take(7).Sum(), 4);
    }

    [Fact]
    public void PaperPresetOnnxMatchesTorchSharpEvalForward()
    {
        using var network = TestNetworks.Random(HfferArchitecture.Paper, classes: 7, seed: 3);
        using var pixels = TestNetworks.Pixels(batch: 1, HfferArchitecture.Paper.InputSize, seed: 9);

        var (expected, onnx) = Compare(network, pixels);
        Console.WriteLine($"paper: max abs diff {MaxAbsDifference(expected, onnx):E2}");

        Assert.True(MaxAbsDifference(expected, onnx) <= 1e-4, $"max |diff| = {MaxAbsDifference(expected, onnx)}");
    }

    private static (float[] Torch, float[] Onnx) Compare(HfferNetwork network, torch.Tensor pixels)
    {
        var parity = OnnxParity.Run(network, pixels,
            Enumerable.Range(0, network.ClassCount).Select(i => $"class {i}").ToArray());

        int classes = network.ClassCount;
        for (int row = 0; row < parity.PredictedIndex.Length; row++)
        {
            var rowScores = parity.Torch.Skip(row * classes).Take(classes).ToArray();
            Assert.Equal(Array.IndexOf(rowScores, rowScores.Max()), (int)parity.PredictedIndex[row]);
        }
        return (parity.Torch, parity.Onnx);
    }
}
