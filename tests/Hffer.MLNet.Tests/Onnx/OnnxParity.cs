using Hffer.MLNet.Modeling;
using Hffer.MLNet.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests.Onnx;

/// <summary>What TorchSharp's eval-mode forward and ONNX Runtime on the exported graph give for the same pixels.</summary>
internal sealed record OnnxParity(float[] Torch, float[] Onnx, long[] PredictedIndex, OnnxModel Model, long ModelBytes)
{
    public double MaxAbsDifference => FloatComparison.MaxAbsDifference(Torch, Onnx);

    public static OnnxParity Run(HfferNetwork network, TorchSharp.torch.Tensor pixels, IReadOnlyList<string>? classNames = null)
    {
        float[] expected;
        using (no_grad())
        using (var input = ImageNormalization.Apply(pixels))
        using (var logits = network.call(input))
        using (var probabilities = logits.softmax(1))
        {
            expected = probabilities.data<float>().ToArray();
        }

        var names = OnnxExportNames.Default;
        var model = HfferOnnxExporter.Build(network, names, classNames);
        using var stream = new MemoryStream();
        model.WriteTo(stream);
        using var session = new InferenceSession(stream.ToArray());
        var inputTensor = new DenseTensor<float>(pixels.data<float>().ToArray(), pixels.shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(names.Pixels, inputTensor)]);
        float[] onnx = results.First(r => r.Name == names.Probabilities).AsEnumerable<float>().ToArray();
        long[] predicted = results.First(r => r.Name == names.PredictedIndex).AsEnumerable<long>().ToArray();
        return new OnnxParity(expected, onnx, predicted, model, stream.Length);
    }
}
