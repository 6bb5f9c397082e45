using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>Per-channel residual scaling of DINOv2 blocks (<c>ls1</c>/<c>ls2</c>, key <c>gamma</c>).</summary>
internal sealed class LayerScale : Module<Tensor, Tensor>
{
    internal readonly TorchSharp.Modules.Parameter gamma;

    public LayerScale(int dim, double initValue) : base(nameof(LayerScale))
    {
        gamma = new TorchSharp.Modules.Parameter(full(dim, initValue));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => input * gamma;
}
