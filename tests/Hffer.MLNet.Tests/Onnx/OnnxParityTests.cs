using Hffer.MLNet.Modeling;
using Hffer.MLNet.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using TorchSharp;
using static TorchSharp.torch;

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
        float[] expected;
        using (no_grad())
        using (var input = ImageNormalization.Apply(pixels))
        using (var logits = network.call(input))
        using (var probabilities = logits.softmax(1))
        {
            expected = probabilities.data<float>().ToArray();
        }

        byte[] model = HfferOnnxExporter.ExportToBytes(network, OnnxExportNames.Default,
            Enumerable.Range(0, network.ClassCount).Select(i => $"class {i}").ToArray());
        using var session = new InferenceSession(model);
        var shape = pixels.shape.Select(d => (int)d).ToArray();
        var inputTensor = new DenseTensor<float>(pixels.data<float>().ToArray(), shape);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExportNames.Default.Pixels, inputTensor)]);
        float[] onnx = results.First(r => r.Name == OnnxExportNames.Default.Probabilities).AsEnumerable<float>().ToArray();
        long[] predicted = results.First(r => r.Name == OnnxExportNames.Default.PredictedIndex)
            .AsEnumerable<long>().ToArray();

        int classes = network.ClassCount;
        for (int row = 0; row < predicted.Length; row++)
        {
            var rowScores = expected.Skip(row * classes).Take(classes).ToArray();
            Assert.Equal(Array.IndexOf(rowScores, rowScores.Max()), (int)predicted[row]);
        }
        return (expected, onnx);
    }

    private static double MaxAbsDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
}
