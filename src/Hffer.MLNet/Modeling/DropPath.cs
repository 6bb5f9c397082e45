using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Modeling;

/// <summary>Stochastic depth: drops a whole residual branch per sample during training, identity otherwise.</summary>
internal static class DropPath
{
    public static Tensor Apply(Tensor branch, double rate, bool training)
    {
        if (!training || rate <= 0)
            return branch.alias();

        double keep = 1 - rate;
        var maskShape = new long[branch.dim()];
        Array.Fill(maskShape, 1L);
        maskShape[0] = branch.shape[0];
        using var mask = empty(maskShape, dtype: branch.dtype, device: branch.device).bernoulli_(keep);
        return branch * mask / keep;
    }
}
