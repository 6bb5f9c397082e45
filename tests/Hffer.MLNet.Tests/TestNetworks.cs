using Hffer.MLNet.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Hffer.MLNet.Tests;

/// <summary>Networks with every parameter and statistic set to seeded random values.</summary>
internal static class TestNetworks
{
    public static HfferNetwork Random(HfferArchitecture architecture, int classes, int seed)
    {
        torch.manual_seed(seed);
        var network = new HfferNetwork(architecture, classes);

        // Fresh batch-norm statistics are 0 and 1, which would hide a wrong mean/variance in an exporter.
        using (no_grad())
        {
            foreach (var (_, module) in network.named_modules())
            {
                if (module is BatchNorm2d norm)
                {
                    norm.running_mean!.copy_(randn_like(norm.running_mean) * 0.1);
                    norm.running_var!.copy_(rand_like(norm.running_var) + 0.5);
                    norm.weight!.copy_(rand_like(norm.weight) + 0.5);
                    norm.bias!.copy_(randn_like(norm.bias) * 0.1);
                }
                else if (module is LayerNorm layerNorm)
                {
                    layerNorm.weight!.copy_(rand_like(layerNorm.weight) + 0.5);
                    layerNorm.bias!.copy_(randn_like(layerNorm.bias) * 0.1);
                }
                else if (module is LayerScale scale)
                {
                    scale.gamma.copy_(rand_like(scale.gamma) + 0.5);
                }
            }
        }

        network.eval();
        return network;
    }

    /// <summary>Random 0-255 pixel values shaped [batch, 3, size, size].</summary>
    public static Tensor Pixels(int batch, int size, int seed)
    {
        var generator = new Generator((ulong)seed);
        return (rand([batch, 3, size, size], generator: generator) * 255).floor();
    }
}
