using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Modeling;

/// <summary>Scaled dot-product attention written out, so the ONNX export mirrors it operation for operation.</summary>
internal static class Attention
{
    /// <summary>softmax(q k^T / sqrt(head dim)) v over tensors shaped [batch, heads, tokens, head dim].</summary>
    public static Tensor Scaled(Tensor query, Tensor key, Tensor value)
    {
        double scale = 1.0 / Math.Sqrt(query.shape[^1]);
        using var logits = matmul(query * scale, key.transpose(-2, -1));
        using var weights = logits.softmax(-1);
        return matmul(weights, value);
    }
}
