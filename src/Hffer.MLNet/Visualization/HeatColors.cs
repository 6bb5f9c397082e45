using SkiaSharp;

namespace Hffer.MLNet.Visualization;

/// <summary>
/// A dark-to-bright colour scale (black, purple, red, orange, pale yellow) whose lightness rises monotonically, so
/// larger values always read as brighter, in colour or printed grey.
/// </summary>
internal static class HeatColors
{
    private static readonly (float At, SKColor Color)[] Stops =
    [
        (0.00f, new SKColor(0, 0, 4)),
        (0.25f, new SKColor(87, 16, 110)),
        (0.50f, new SKColor(188, 55, 84)),
        (0.75f, new SKColor(249, 142, 9)),
        (1.00f, new SKColor(252, 255, 164)),
    ];

    /// <summary>The colour of <paramref name="value"/>, clamped to [0, 1].</summary>
    public static SKColor At(double value, byte alpha = 255)
    {
        float v = (float)Math.Clamp(double.IsNaN(value) ? 0 : value, 0, 1);
        int upper = 1;
        while (upper < Stops.Length - 1 && Stops[upper].At < v)
            upper++;
        var (fromAt, from) = Stops[upper - 1];
        var (toAt, to) = Stops[upper];
        float t = (v - fromAt) / (toAt - fromAt);
        return new SKColor(Mix(from.Red, to.Red, t), Mix(from.Green, to.Green, t), Mix(from.Blue, to.Blue, t), alpha);
    }

    private static byte Mix(byte from, byte to, float t) => (byte)Math.Round(from + (to - from) * t);
}
