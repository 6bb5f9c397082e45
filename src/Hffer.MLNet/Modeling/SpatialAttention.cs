using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// HAFNet's variant of CBAM spatial attention: channel-mean and channel-max maps, a 7x7 convolution without bias,
/// a sigmoid gate multiplied into the input.
/// </summary>
internal sealed class SpatialAttention : Module<Tensor, Tensor>
{
    internal readonly Conv2d conv;

    public SpatialAttention() : base(nameof(SpatialAttention))
    {
        conv = Conv2d(2, 1, kernel_size: 7, padding: 3, bias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor map)
    {
        using var scope = NewDisposeScope();
        var pooled = cat([map.mean([1], keepdim: true), map.amax([1], keepdim: true)], 1);
        return (map * conv.call(pooled).sigmoid()).MoveToOuterDisposeScope();
    }
}
