using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>Pre-norm DINOv2 block: x + ls1(attn(norm1(x))), then x + ls2(mlp(norm2(x))).</summary>
internal sealed class VitBlock : Module<Tensor, Tensor>
{
    internal const double NormEpsilon = 1e-6;

    internal readonly LayerNorm norm1;
    internal readonly VitAttention attn;
    internal readonly LayerScale ls1;
    internal readonly LayerNorm norm2;
    internal readonly VitMlp mlp;
    internal readonly LayerScale ls2;

    public VitBlock(int dim, int heads, int mlpRatio) : base(nameof(VitBlock))
    {
        norm1 = LayerNorm(dim, NormEpsilon);
        attn = new VitAttention(dim, heads);
        ls1 = new LayerScale(dim, 1.0);
        norm2 = LayerNorm(dim, NormEpsilon);
        mlp = new VitMlp(dim, dim * mlpRatio);
        ls2 = new LayerScale(dim, 1.0);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var afterAttention = tokens + ls1.call(attn.call(norm1.call(tokens)));
        return (afterAttention + ls2.call(mlp.call(norm2.call(afterAttention)))).MoveToOuterDisposeScope();
    }
}
