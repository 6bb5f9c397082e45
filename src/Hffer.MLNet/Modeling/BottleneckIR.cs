using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>
/// The improved-residual unit of IR50 (face.evoLVe <c>bottleneck_IR</c>, as POSTER uses it): BN, 3x3 conv, PReLU,
/// strided 3x3 conv, BN, added to a shortcut that is a pure subsampling when the width does not change.
/// </summary>
/// <remarks>Field names are the checkpoint's: <c>shortcut_layer.*</c> and <c>res_layer.{0..4}.*</c>.</remarks>
internal sealed class BottleneckIR : Module<Tensor, Tensor>
{
    // Field names decide state-dict keys, so they follow the official ir50.pth checkpoint.
    internal readonly Module<Tensor, Tensor> shortcut_layer;
    internal readonly Sequential res_layer;

    public BottleneckIR(int inChannels, int depth, int stride) : base(nameof(BottleneckIR))
    {
        InChannels = inChannels;
        Depth = depth;
        Stride = stride;

        shortcut_layer = inChannels == depth
            ? MaxPool2d(kernel_size: 1, stride: stride)
            : Sequential(
                Conv2d(inChannels, depth, kernel_size: 1, stride: stride, bias: false),
                BatchNorm2d(depth));

        res_layer = Sequential(
            BatchNorm2d(inChannels),
            Conv2d(inChannels, depth, kernel_size: 3, stride: 1, padding: 1, bias: false),
            PReLU(depth),
            Conv2d(depth, depth, kernel_size: 3, stride: stride, padding: 1, bias: false),
            BatchNorm2d(depth));

        RegisterComponents();
    }

    public int InChannels { get; }

    public int Depth { get; }

    public int Stride { get; }

    /// <summary>Whether the shortcut is a parameter-free subsampling (same width on both sides).</summary>
    public bool HasIdentityShortcut => InChannels == Depth;

    public override Tensor forward(Tensor input) => res_layer.call(input) + shortcut_layer.call(input);
}
