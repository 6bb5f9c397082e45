using Hffer.MLNet.IO;
using SkiaSharp;

namespace Hffer.MLNet.Visualization;

/// <summary>Draws on a white canvas of a fixed size and saves it as PNG without ever leaving a partial file.</summary>
internal static class PngFile
{
    public static HfferPicture Draw(string path, int width, int height, Action<SKCanvas> draw)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"SkiaSharp could not make a {width} x {height} canvas.");
        surface.Canvas.Clear(SKColors.White);
        draw(surface.Canvas);

        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, png.AsSpan());
        return new HfferPicture(Path.GetFullPath(path), width, height);
    }

    /// <summary>Draws <paramref name="text"/> with its left end, centre or right end at x, by <paramref name="align"/>.
    /// </summary>
    public static void Text(SKCanvas canvas, string text, float x, float y, SKFont font, SKColor color,
        SKTextAlign align = SKTextAlign.Left)
    {
        using var paint = new SKPaint { Color = color, IsAntialias = true };
        canvas.DrawText(text, x, y, align, font, paint);
    }
}
