using Hffer.MLNet.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Hffer.MLNet.Scoring;

/// <summary>Opens graphs saved by <see cref="HfferTransformer"/> and reads what scoring needs from their signatures.</summary>
internal static class SavedGraph
{
    /// <summary>A session for the file's bytes, or an error naming the file when ONNX Runtime cannot load them.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a model ONNX Runtime can load.</exception>
    public static InferenceSession Open(byte[] model, string path, int? gpuDeviceId, int? intraOpThreads)
    {
        try
        {
            return ScoringSessions.Open(model, gpuDeviceId, intraOpThreads);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path} is not an ONNX model ONNX Runtime can load: {e.Message}", e);
        }
    }

    /// <summary>The network's input side, probabilities output, class count and whether it reads a prior map.</summary>
    /// <exception cref="InvalidDataException">The graph does not have the exported network's signature.</exception>
    public static (int ImageSize, string ScoreName, int ClassCount, bool NeedsPrior) DescribeNetwork(
        InferenceSession network, OnnxExportNames names, string path)
    {
        var inputs = network.InputMetadata;
        var score = network.OutputMetadata.FirstOrDefault(o =>
            o.Value.ElementDataType == TensorElementType.Float && o.Value.Dimensions.Length == 2);
        if (!inputs.TryGetValue(names.Pixels, out var pixels) || pixels.Dimensions.Length != 4 || score.Key is null ||
            !network.OutputMetadata.ContainsKey(names.PredictedIndex))
            throw new InvalidDataException(
                $"{path} is not a network graph saved by HfferTransformer.SaveOnnx: it needs input '{names.Pixels}' " +
                $"[N, 3, S, S] and outputs of probabilities and '{names.PredictedIndex}' (its inputs: " +
                $"{string.Join(", ", inputs.Keys)}; outputs: {string.Join(", ", network.OutputMetadata.Keys)}).");
        return (pixels.Dimensions[2], score.Key, score.Value.Dimensions[1], inputs.ContainsKey(names.PriorMap!));
    }

    /// <summary>The prior graph's input side.</summary>
    /// <exception cref="InvalidDataException">The graph is not a prior graph saved by SavePriorOnnx.</exception>
    public static int PriorInputSize(InferenceSession prior, string path) =>
        prior.InputMetadata.TryGetValue(OnnxPriorGraph.PixelsInput, out var pixels) && pixels.Dimensions.Length == 4 &&
        prior.OutputMetadata.ContainsKey(OnnxPriorGraph.MapOutput)
            ? pixels.Dimensions[2]
            : throw new InvalidDataException(
                $"{path} is not a prior graph saved by HfferTransformer.SavePriorOnnx: it needs input " +
                $"'{OnnxPriorGraph.PixelsInput}' [N, 3, S, S] and output '{OnnxPriorGraph.MapOutput}'.");
}
