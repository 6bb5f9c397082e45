using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// Multi-head cross-attention: queries come from the fused stream, keys and values from a source stream.
/// </summary>
internal sealed class CrossAttention : Module<Tensor, Tensor, Tensor>
{
    internal readonly Linear q;
    internal readonly Linear kv;
    internal readonly Linear proj;

    public CrossAttention(int dim, int heads) : base(nameof(CrossAttention))
    {
        Heads = heads;
        q = Linear(dim, dim, hasBias: true);
        kv = Linear(dim, dim * 2, hasBias: true);
        proj = Linear(dim, dim, hasBias: true);
        RegisterComponents();
    }

    public int Heads { get; }

    /// <summary>
    /// When set, each forward also computes its attention weights [B, heads, N, source N] the long way and keeps them
    /// in <see cref="ObservedWeights"/> (outside any dispose scope; the caller disposes them). The fast path never
    /// forms them, so this is how the exported graph's named weights are checked against TorchSharp.
    /// </summary>
    internal bool ObserveWeights { get; set; }

    /// <summary>The weights of the last forward while <see cref="ObserveWeights"/> was set.</summary>
    internal Tensor? ObservedWeights { get; private set; }

    /// <summary>Both inputs are [B, N, dim] and already layer-normalized.</summary>
    public override Tensor forward(Tensor queryTokens, Tensor sourceTokens)
    {
        long batch = queryTokens.shape[0], count = queryTokens.shape[1], dim = queryTokens.shape[2];
        long sourceCount = sourceTokens.shape[1], headDim = dim / Heads;
        using var scope = NewDisposeScope();

        var queries = q.call(queryTokens).reshape(batch, count, Heads, headDim).transpose(1, 2);
        var keysValues = kv.call(sourceTokens).reshape(batch, sourceCount, 2, Heads, headDim).permute(2, 0, 3, 1, 4);
        var attended = Attention.Scaled(queries, keysValues[0], keysValues[1]);
        if (ObserveWeights)
        {
            ObservedWeights?.Dispose();
            var logits = queries.matmul(keysValues[0].transpose(-2, -1)) / Math.Sqrt(headDim);
            ObservedWeights = logits.softmax(-1).detach().DetachFromDisposeScope();
        }

        return proj.call(attended.transpose(1, 2).reshape(batch, count, dim)).MoveToOuterDisposeScope();
    }
}
