using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Hffer.MLNet.Modeling;

/// <summary>The CBR block of HAFNet and HFFER: a bias-free k x k convolution with "same" padding, BN, ReLU.</summary>
internal sealed class ConvBnRelu : Module<Tensor, Tensor>
{
    internal readonly Conv2d conv;
    internal readonly BatchNorm2d bn;

    public ConvBnRelu(int inChannels, int outChannels, int kernelSize) : base(nameof(ConvBnRelu))
    {
        KernelSize = kernelSize;
        conv = Conv2d(inChannels, outChannels, kernel_size: kernelSize, padding: kernelSize / 2, bias: false);
        bn = BatchNorm2d(outChannels);
        RegisterComponents();
    }

    public int KernelSize { get; }

    public override Tensor forward(Tensor map)
    {
        using var convolved = conv.call(map);
        using var normalized = bn.call(convolved);
        return normalized.relu();
    }
}
