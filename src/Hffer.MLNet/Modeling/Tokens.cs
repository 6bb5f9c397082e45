using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Modeling;

/// <summary>Conversions between channel-first maps [B, C, H, W] and row-major token sequences [B, H*W, C].</summary>
internal static class Tokens
{
    public static Tensor FromMap(Tensor map)
    {
        using var flat = map.flatten(2);
        return flat.transpose(1, 2);
    }

    public static Tensor ToMap(Tensor tokens, int grid)
    {
        using var channelsFirst = tokens.transpose(1, 2);
        return channelsFirst.reshape(tokens.shape[0], tokens.shape[2], grid, grid);
    }
}
