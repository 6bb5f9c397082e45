using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// One bidirectional fusion module (HFFER section 3.3, resolutions A3/A4): the fused stream X attends to the IR50
/// tokens and to the DINOv2 tokens in two pre-norm cross-attentions; HFFE merges the two results (or they are
/// summed when HFFE sits after the stack); a pre-norm MLP follows.
/// </summary>
internal sealed class FusionModule : Module<Tensor, Tensor, Tensor, Tensor>
{
    internal const double NormEpsilon = 1e-6;

    internal readonly LayerNorm norm1;
    internal readonly LayerNorm norm_ir;
    internal readonly LayerNorm norm_do;
    internal readonly CrossAttention attn_ir;
    internal readonly CrossAttention attn_do;
    internal readonly Hffe? hffe;
    internal readonly LayerNorm norm2;
    internal readonly VitMlp mlp;

    public FusionModule(HfferArchitecture architecture, double dropPathRate) : base(nameof(FusionModule))
    {
        int dim = architecture.FusionDim;
        Grid = architecture.TokenGrid;
        DropPathRate = dropPathRate;

        norm1 = LayerNorm(dim, NormEpsilon);
        norm_ir = LayerNorm(dim, NormEpsilon);
        norm_do = LayerNorm(dim, NormEpsilon);
        attn_ir = new CrossAttention(dim, architecture.FusionHeads);
        attn_do = new CrossAttention(dim, architecture.FusionHeads);
        if (architecture.HffePlacement == HffePlacement.EveryModule)
            hffe = new Hffe(architecture);
        norm2 = LayerNorm(dim, NormEpsilon);
        mlp = new VitMlp(dim, dim * architecture.FusionMlpRatio);

        RegisterComponents();
    }

    public int Grid { get; }

    public double DropPathRate { get; }

    /// <summary>Takes X_{n-1}, X_ir and X_do as [B, N, dim] tokens and returns X_n.</summary>
    public override Tensor forward(Tensor fused, Tensor ir, Tensor dino)
    {
        using var scope = NewDisposeScope();
        var query = norm1.call(fused);
        var viaIr = fused + DropPath.Apply(attn_ir.call(query, norm_ir.call(ir)), DropPathRate, training);
        var viaDo = fused + DropPath.Apply(attn_do.call(query, norm_do.call(dino)), DropPathRate, training);

        Tensor merged;
        if (hffe is null)
        {
            merged = viaIr + viaDo - fused;
        }
        else
        {
            var map = hffe.call(Tokens.ToMap(viaIr, Grid), Tokens.ToMap(viaDo, Grid));
            merged = fused + DropPath.Apply(Tokens.FromMap(map), DropPathRate, training);
        }

        var output = merged + DropPath.Apply(mlp.call(norm2.call(merged)), DropPathRate, training);
        return output.MoveToOuterDisposeScope();
    }
}
