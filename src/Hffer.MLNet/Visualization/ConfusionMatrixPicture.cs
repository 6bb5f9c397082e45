using Microsoft.ML.Data;
using SkiaSharp;

namespace Hffer.MLNet.Visualization;

/// <summary>
/// Draws a confusion matrix: one row per true class, one column per predicted class, each cell showing its count
/// and shaded by the share of its row, so a dark diagonal means high recall whatever the class sizes.
/// </summary>
public static class ConfusionMatrixPicture
{
    private const int Cell = 64;
    private const int RowLabels = 120;
    private const int Top = 84;
    private const int Bottom = 40;
    private const int Right = 24;

    /// <summary>Saves the confusion matrix of an ML.NET evaluation as a PNG.</summary>
    /// <param name="matrix">From <c>MulticlassClassification.Evaluate(...).ConfusionMatrix</c>.</param>
    /// <param name="classNames">Names in key order (<see cref="HfferTransformer.ClassNames"/>).</param>
    /// <param name="path">The PNG to write; written to a temporary file first, then renamed.</param>
    /// <exception cref="ArgumentException">The class count differs from the matrix's.</exception>
    public static HfferPicture Save(ConfusionMatrix matrix, IReadOnlyList<string> classNames, string path)
    {
        return Save(HfferClassMetrics.CountsOf(matrix), classNames, path);
    }

    /// <summary>Saves a confusion matrix given as counts[true class][predicted class].</summary>
    /// <exception cref="ArgumentException">The matrix is not square or its size differs from the class count.</exception>
    public static HfferPicture Save(IReadOnlyList<IReadOnlyList<long>> counts, IReadOnlyList<string> classNames,
        string path)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(classNames);
        int classes = classNames.Count;
        if (classes == 0 || counts.Count != classes || counts.Any(row => row.Count != classes))
            throw new ArgumentException($"The confusion matrix must be {classes} x {classes}, one row and column " +
                "per class name.", nameof(counts));

        int width = RowLabels + classes * Cell + Right, height = Top + classes * Cell + Bottom;
        return PngFile.Draw(path, width, height, canvas => Draw(canvas, counts, classNames));
    }

    private static void Draw(SKCanvas canvas, IReadOnlyList<IReadOnlyList<long>> counts, IReadOnlyList<string> names)
    {
        int classes = names.Count;
        long total = counts.Sum(row => row.Sum());
        long correct = Enumerable.Range(0, classes).Sum(c => counts[c][c]);
        using var title = PictureFonts.Create(16);
        using var label = PictureFonts.Create(12);
        using var number = PictureFonts.Create(14);

        PngFile.Text(canvas, $"Confusion matrix: {correct} of {total} right" +
            (total > 0 ? $" ({(double)correct / total:P1})" : ""), 12, 24, title, SKColors.Black);
        PngFile.Text(canvas, "predicted", RowLabels + classes * Cell / 2f, 48, label, SKColors.DimGray,
            SKTextAlign.Center);
        PngFile.Text(canvas, "rows: true class; shade: share of the row", RowLabels, Top + classes * Cell + 28,
            label, SKColors.DimGray);

        using var grid = new SKPaint { Color = SKColors.White, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        using var fill = new SKPaint { Style = SKPaintStyle.Fill };
        for (int row = 0; row < classes; row++)
        {
            float y = Top + row * Cell;
            PngFile.Text(canvas, names[row], RowLabels - 8, y + Cell / 2f + 4, label, SKColors.Black,
                SKTextAlign.Right);
            long rowTotal = counts[row].Sum();
            for (int column = 0; column < classes; column++)
            {
                float x = RowLabels + column * Cell;
                double share = rowTotal == 0 ? 0 : (double)counts[row][column] / rowTotal;
                fill.Color = BlueShade(share);
                var cell = new SKRect(x, y, x + Cell, y + Cell);
                canvas.DrawRect(cell, fill);
                canvas.DrawRect(cell, grid);
                PngFile.Text(canvas, counts[row][column].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    x + Cell / 2f, y + Cell / 2f + 5, number, share > 0.5 ? SKColors.White : SKColors.Black,
                    SKTextAlign.Center);
            }
        }
        for (int column = 0; column < classes; column++)
            PngFile.Text(canvas, names[column], RowLabels + column * Cell + Cell / 2f, Top - 8, label, SKColors.Black,
                SKTextAlign.Center);
    }

    /// <summary>White for 0 to deep blue for 1.</summary>
    private static SKColor BlueShade(double share)
    {
        double t = Math.Clamp(share, 0, 1);
        return new SKColor((byte)(247 - 239 * t), (byte)(251 - 203 * t), (byte)(255 - 148 * t));
    }
}
