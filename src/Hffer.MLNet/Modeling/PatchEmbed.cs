using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>Non-overlapping patch projection (<c>patch_embed.proj</c>), flattened row-major into tokens.</summary>
internal sealed class PatchEmbed : Module<Tensor, Tensor>
{
    internal readonly Conv2d proj;

    public PatchEmbed(int patchSize, int dim) : base(nameof(PatchEmbed))
    {
        proj = Conv2d(3, dim, kernel_size: patchSize, stride: patchSize, bias: true);
        RegisterComponents();
    }

    /// <summary>[B, 3, H, W] to [B, (H/p)(W/p), dim].</summary>
    public override Tensor forward(Tensor image)
    {
        using var map = proj.call(image);
        using var flat = map.flatten(2);
        return flat.transpose(1, 2);
    }
}
