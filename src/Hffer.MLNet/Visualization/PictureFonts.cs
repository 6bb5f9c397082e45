using SkiaSharp;

namespace Hffer.MLNet.Visualization;

/// <summary>
/// The typeface pictures label with. ML.NET's SkiaSharp build for Linux has no fontconfig, so its default typeface
/// can be empty there; a few common font files are tried before giving up on text (pictures stay correct, unlabelled).
/// </summary>
internal static class PictureFonts
{
    private static readonly string[] KnownFontFiles =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:\\Windows\\Fonts\\arial.ttf",
    ];

    private static readonly Lazy<SKTypeface> Typeface = new(Resolve);

    /// <summary>Whether a typeface with glyphs was found, so labels are visible.</summary>
    public static bool HasText => Typeface.Value.GlyphCount > 0;

    public static SKFont Create(float size) =>
        new(Typeface.Value, size) { Subpixel = true, Edging = SKFontEdging.Antialias };

    private static SKTypeface Resolve()
    {
        foreach (string family in new[] { "DejaVu Sans", "Arial", "Liberation Sans", "Helvetica" })
        {
            var matched = SKFontManager.Default.MatchFamily(family);
            if (matched is { GlyphCount: > 0 })
                return matched;
        }

        foreach (string file in KnownFontFiles.Where(File.Exists))
        {
            var loaded = SKTypeface.FromFile(file);
            if (loaded is { GlyphCount: > 0 })
                return loaded;
        }
        return SKTypeface.Default;
    }
}
