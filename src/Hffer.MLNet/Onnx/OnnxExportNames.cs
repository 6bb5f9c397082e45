namespace Hffer.MLNet.Onnx;

/// <summary>Names of the exported graph's input and outputs.</summary>
/// <param name="Pixels">Input [N, 3, S, S]: planar RGB pixel values 0-255.</param>
/// <param name="Probabilities">Output [N, classes]: softmax probabilities in label-key order.</param>
/// <param name="PredictedIndex">Output [N] (int64): the zero-based index of the most probable class.</param>
public sealed record OnnxExportNames(string Pixels, string Probabilities, string PredictedIndex)
{
    /// <summary>
    /// Second input of networks trained with an ONNX prior: the prior graph's output for the same images, a map
    /// [N, C, H, W] or a token sequence [N, T, C].
    /// </summary>
    public string PriorMap { get; init; } = "prior_map";

    /// <summary>The names the ML.NET scoring chain uses.</summary>
    public static OnnxExportNames Default { get; } = new("pixels", "Score", "predicted_index");
}
