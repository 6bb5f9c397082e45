using Hffer.MLNet.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Hffer.MLNet.Tests.Onnx;

/// <summary>Reading and editing a model we did not write: ML.NET's ImageNet-pretrained ResNet18.</summary>
public class OnnxGraphEditorTests
{
    private const string LastStage = "ReLU393_Output_0";
    private const string Pooled = "Pooling395_Output_0";

    private static readonly string ResNet18 =
        Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    [Fact]
    public void ReaderFindsResNet18sInputOutputAndTheAveragePoolOverItsLastStage()
    {
        var graph = OnnxModelReader.Read(File.ReadAllBytes(ResNet18));

        Assert.Equal(["Input247"], graph.Inputs);
        Assert.Equal([Pooled], graph.Outputs);
        Assert.Equal(8, graph.Opsets[""]);
        var pooling = graph.Producer(Pooled)!;
        Assert.Equal("AveragePool", pooling.OpType);
        Assert.Equal([LastStage], pooling.Inputs);
        Assert.Equal("Relu", graph.Producer(LastStage)!.OpType);
    }

    [Fact]
    public void ExposedLastStageMapAveragesToTheModelsOwnPooledOutput()
    {
        byte[] edited = OnnxGraphEditor.ExposeOutput(File.ReadAllBytes(ResNet18), LastStage, [1L, 512L, 7L, 7L]);
        var random = new Random(5);
        var pixels = new DenseTensor<float>(Enumerable.Range(0, 3 * 224 * 224)
            .Select(_ => (float)(random.NextDouble() * 255 - 120)).ToArray(), [1, 3, 224, 224]);

        using var session = new InferenceSession(edited);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Input247", pixels)], [LastStage, Pooled]);
        var map = results.First(r => r.Name == LastStage).AsTensor<float>();
        var pooled = results.First(r => r.Name == Pooled).AsTensor<float>();

        Assert.Equal([1, 512, 7, 7], map.Dimensions.ToArray());
        Assert.Equal(2, OnnxModelReader.Read(edited).Outputs.Count);
        double worst = 0;
        for (int channel = 0; channel < 512; channel++)
        {
            double mean = 0;
            for (int y = 0; y < 7; y++)
                for (int x = 0; x < 7; x++)
                    mean += map[0, channel, y, x] / 49.0;
            worst = Math.Max(worst, Math.Abs(mean - pooled[0, channel, 0, 0]));
        }
        Assert.True(worst < 1e-4, $"max |mean(map) - pooled| = {worst}");
        Assert.True(map.ToArray().Max() > 0, "a ReLU map of a non-zero input is not all zero");
    }

    [Fact]
    public void ExposingAValueNoNodeProducesNamesTheGraphsOutputs()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            OnnxGraphEditor.ExposeOutput(File.ReadAllBytes(ResNet18), "NoSuchValue", [1L]));

        Assert.Contains("No node of the graph produces 'NoSuchValue'; its outputs are Pooling395_Output_0.", error.Message);
    }

    [Fact]
    public void TruncatedOrForeignBytesAreNotAnOnnxModel()
    {
        byte[] model = File.ReadAllBytes(ResNet18);

        var truncated = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read(model[..(model.Length / 3)]));
        var text = Assert.Throws<InvalidDataException>(() => OnnxModelReader.Read("hello, world"u8.ToArray()));

        Assert.StartsWith("the ONNX model is not a well-formed ONNX model", truncated.Message);
        Assert.StartsWith("the ONNX model is not", text.Message);
    }
}
