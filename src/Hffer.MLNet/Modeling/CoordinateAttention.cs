using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// Coordinate attention (Hou, Zhou, Feng, CVPR 2021): direction-aware pooling along height and width, a shared
/// 1x1 bottleneck with BN and h-swish, and two sigmoid gates that re-weight the input.
/// </summary>
/// <remarks>Field names follow the authors' <c>coordatt.py</c>: <c>conv1</c>, <c>bn1</c>, <c>conv_h</c>, <c>conv_w</c>.</remarks>
internal sealed class CoordinateAttention : Module<Tensor, Tensor>
{
    internal readonly Conv2d conv1;
    internal readonly BatchNorm2d bn1;
    internal readonly Conv2d conv_h;
    internal readonly Conv2d conv_w;

    public CoordinateAttention(int channels, int reduction) : base(nameof(CoordinateAttention))
    {
        int hidden = Math.Max(8, channels / reduction);
        conv1 = Conv2d(channels, hidden, kernel_size: 1, bias: true);
        bn1 = BatchNorm2d(hidden);
        conv_h = Conv2d(hidden, channels, kernel_size: 1, bias: true);
        conv_w = Conv2d(hidden, channels, kernel_size: 1, bias: true);
        RegisterComponents();
    }

    public override Tensor forward(Tensor map)
    {
        long height = map.shape[2], width = map.shape[3];
        using var scope = NewDisposeScope();

        var alongHeight = map.mean([3], keepdim: true);
        var alongWidth = map.mean([2], keepdim: true).permute(0, 1, 3, 2);
        var mixed = nn.functional.hardswish(bn1.call(conv1.call(cat([alongHeight, alongWidth], 2))));

        var parts = mixed.split([height, width], 2);
        var gateHeight = conv_h.call(parts[0]).sigmoid();
        var gateWidth = conv_w.call(parts[1].permute(0, 1, 3, 2)).sigmoid();

        return (map * gateWidth * gateHeight).MoveToOuterDisposeScope();
    }
}
