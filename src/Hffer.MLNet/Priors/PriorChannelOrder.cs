namespace Hffer.MLNet.Priors;

/// <summary>The channel order an ONNX featurizer expects in its input tensor.</summary>
public enum PriorChannelOrder
{
    /// <summary>Red, green, blue planes (most PyTorch and Hugging Face exports).</summary>
    Rgb,

    /// <summary>Blue, green, red planes (Caffe- and CNTK-era models, ML.NET's ResNet18).</summary>
    Bgr,
}
