using System.Globalization;
using Hffer.MLNet.Scoring;
using SkiaSharp;

namespace Hffer.MLNet.Visualization;

/// <summary>
/// Draws where the fusion looked in one face, as in the paper's Figure 1: the face, then the face under the attention
/// over the IR50 tokens, then under the attention over the frozen branch's tokens. Colours run from each map's
/// smallest cell to its largest, but over no less than the weight every cell would get from uniform attention, so a
/// map that barely departs from uniform stays dark instead of having its noise stretched to full contrast.
/// </summary>
public static class AttentionPicture
{
    /// <summary>Side of each of the three panels in pixels.</summary>
    public const int PanelSize = 224;

    private const int Margin = 10;
    private const int TitleHeight = 30;
    private const int CaptionHeight = 34;

    /// <summary>Width of the picture in pixels.</summary>
    public const int Width = 3 * PanelSize + 4 * Margin;

    /// <summary>Height of the picture in pixels.</summary>
    public const int Height = TitleHeight + PanelSize + CaptionHeight;

    /// <summary>Saves the attention picture of one scored image.</summary>
    /// <param name="imagePath">The image that was scored.</param>
    /// <param name="prediction">
    /// Its prediction, scored with <see cref="HfferBatchScoringOptions.IncludeAttentionMaps"/>.
    /// </param>
    /// <param name="path">The PNG to write; written to a temporary file first, then renamed.</param>
    /// <param name="trueLabel">The image's known class, shown beside the prediction when given.</param>
    /// <param name="frozenBranchName">
    /// Name of the frozen branch for the third panel's caption ("DINOv2", or the ONNX prior's name); null says
    /// "frozen branch", since a prediction does not record which prior the model was trained with.
    /// </param>
    /// <exception cref="ArgumentException">The prediction carries no attention maps.</exception>
    /// <exception cref="InvalidDataException">The image cannot be decoded (the file is named).</exception>
    public static HfferPicture Save(string imagePath, HfferPrediction prediction, string path,
        string? trueLabel = null, string? frozenBranchName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        ArgumentNullException.ThrowIfNull(prediction);
        var maps = prediction.AttentionMaps ?? throw new ArgumentException("The prediction has no attention maps; " +
            $"score with {nameof(HfferBatchScoringOptions)}.{nameof(HfferBatchScoringOptions.IncludeAttentionMaps)} " +
            "set.", nameof(prediction));
        using var face = SKBitmap.Decode(imagePath) ?? throw new InvalidDataException(
            $"{imagePath} cannot be decoded as an image, so no attention picture was drawn for it.");

        string title = $"{Path.GetFileName(imagePath)}: predicted {prediction.PredictedLabel} " +
            $"({prediction.Score[prediction.PredictedIndex].ToString("P0", CultureInfo.InvariantCulture)})" +
            (trueLabel is null ? "" : $", true {trueLabel}");
        return PngFile.Draw(path, Width, Height, canvas =>
        {
            using var titleFont = PictureFonts.Create(14);
            using var captionFont = PictureFonts.Create(12);
            PngFile.Text(canvas, title, Margin, 20, titleFont, SKColors.Black);

            (string Caption, IReadOnlyList<float>? Map)[] panels =
            [
                ("face", null),
                ("IR50 branch", maps.Ir50),
                (frozenBranchName is null ? "frozen branch" : $"{frozenBranchName} branch", maps.FrozenBranch),
            ];
            for (int i = 0; i < panels.Length; i++)
            {
                var area = SKRect.Create(Margin + i * (PanelSize + Margin), TitleHeight, PanelSize, PanelSize);
                DrawFace(canvas, face, area);
                string caption = panels[i].Caption;
                if (panels[i].Map is { } map)
                {
                    DrawHeat(canvas, map, maps.GridSize, area);
                    caption += string.Create(CultureInfo.InvariantCulture,
                        $": peak {map.Max() * map.Count:F1}x uniform");
                }
                PngFile.Text(canvas, caption, area.MidX, area.Bottom + 20, captionFont, SKColors.Black,
                    SKTextAlign.Center);
            }
        });
    }

    private static void DrawFace(SKCanvas canvas, SKBitmap face, SKRect area)
    {
        using var image = SKImage.FromBitmap(face);
        canvas.DrawImage(image, area, new SKSamplingOptions(SKCubicResampler.Mitchell));
    }

    /// <summary>The map as a translucent colour grid over the face, interpolated between cell centres.</summary>
    private static void DrawHeat(SKCanvas canvas, IReadOnlyList<float> map, int grid, SKRect area)
    {
        float lowest = map.Min(), range = Math.Max(map.Max() - lowest, 1f / map.Count);
        using var cells = new SKBitmap(grid, grid, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        for (int row = 0; row < grid; row++)
            for (int column = 0; column < grid; column++)
                cells.SetPixel(column, row, HeatColors.At((map[row * grid + column] - lowest) / range, alpha: 150));
        using var image = SKImage.FromBitmap(cells);
        canvas.DrawImage(image, area, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
    }
}
