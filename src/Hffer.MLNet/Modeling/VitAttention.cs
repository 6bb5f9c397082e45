using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// DINOv2 multi-head self-attention with one fused <c>qkv</c> projection; its output rows are q, k, v in that
/// order, each head-major, as in the official checkpoint.
/// </summary>
internal sealed class VitAttention : Module<Tensor, Tensor>
{
    internal readonly Linear qkv;
    internal readonly Linear proj;

    public VitAttention(int dim, int heads) : base(nameof(VitAttention))
    {
        Heads = heads;
        qkv = Linear(dim, dim * 3, hasBias: true);
        proj = Linear(dim, dim, hasBias: true);
        RegisterComponents();
    }

    public int Heads { get; }

    public override Tensor forward(Tensor tokens)
    {
        long batch = tokens.shape[0], count = tokens.shape[1], dim = tokens.shape[2];
        using var scope = NewDisposeScope();

        var qkvHeads = qkv.call(tokens).reshape(batch, count, 3, Heads, dim / Heads).permute(2, 0, 3, 1, 4);
        var attended = Attention.Scaled(qkvHeads[0], qkvHeads[1], qkvHeads[2]);
        var merged = attended.transpose(1, 2).reshape(batch, count, dim);

        return proj.call(merged).MoveToOuterDisposeScope();
    }
}
