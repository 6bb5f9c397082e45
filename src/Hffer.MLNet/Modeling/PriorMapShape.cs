namespace Hffer.MLNet.Modeling;

/// <summary>
/// What an ONNX prior yields per image: a spatial map [C, H, W], or a ViT token sequence [leading + H x W, C] whose
/// first <see cref="LeadingTokens"/> tokens (class and register tokens) are dropped and the rest form an H x W map.
/// </summary>
internal sealed record PriorMapShape(int Channels, int Height, int Width, int? LeadingTokens = null)
{
    /// <summary>Whether the prior's value is a token sequence rather than a channels-first map.</summary>
    public bool IsTokenSequence => LeadingTokens is not null;

    /// <summary>Tokens per image of a token sequence, leading ones included.</summary>
    public int TokenCount => (LeadingTokens ?? 0) + Height * Width;

    /// <summary>Floats per image.</summary>
    public int Length => IsTokenSequence ? TokenCount * Channels : Channels * Height * Width;

    /// <summary>The value's dimensions after the batch dimension.</summary>
    public long[] Dims => IsTokenSequence ? [TokenCount, Channels] : [Channels, Height, Width];

    /// <summary>How the value is read, for messages.</summary>
    public override string ToString() => IsTokenSequence
        ? $"token sequence {TokenCount}x{Channels} ({LeadingTokens} leading token(s) dropped, {Height}x{Width} grid)"
        : $"{Channels}x{Height}x{Width}";

    /// <summary>
    /// Reads a token sequence of <paramref name="tokens"/> tokens as leading tokens plus a square grid, taking the
    /// fewest leading tokens (at most 16: a class token and registers) that leave a square; null when none does.
    /// </summary>
    public static PriorMapShape? FromTokenSequence(int tokens, int channels)
    {
        for (int leading = 0; leading <= Math.Min(16, tokens - 1); leading++)
        {
            int side = (int)Math.Round(Math.Sqrt(tokens - leading));
            if (side * side == tokens - leading)
                return new PriorMapShape(channels, side, side, leading);
        }
        return null;
    }
}
