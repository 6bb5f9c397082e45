using System.Globalization;
using Hffer.MLNet.Training;
using SkiaSharp;

namespace Hffer.MLNet.Visualization;

/// <summary>
/// Draws training curves per epoch side by side: the hybrid loss (training and validation) and the accuracy
/// (training and validation). The kept epoch, when validation picked one, is marked on both.
/// </summary>
public static class TrainingCurvesPicture
{
    /// <summary>Width of the picture in pixels.</summary>
    public const int Width = 1000;

    /// <summary>Height of the picture in pixels.</summary>
    public const int Height = 400;

    private static readonly SKColor TrainColor = new(31, 119, 180);
    private static readonly SKColor ValidationColor = new(214, 39, 40);

    /// <summary>Saves the curves of <paramref name="history"/>, a <see cref="HfferTransformer.TrainingHistory"/>.
    /// </summary>
    /// <param name="history">One entry per epoch, in order.</param>
    /// <param name="path">The PNG to write; written to a temporary file first, then renamed.</param>
    /// <param name="keptEpoch">The epoch whose weights were kept (<see cref="HfferTransformer.BestEpoch"/>).</param>
    /// <exception cref="ArgumentException">The history is empty.</exception>
    public static HfferPicture Save(IReadOnlyList<HfferEpochMetrics> history, string path, int? keptEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0)
            throw new ArgumentException("The training history is empty: there is nothing to draw.", nameof(history));

        return PngFile.Draw(path, Width, Height, canvas =>
        {
            var panelWidth = (Width - 3 * 20) / 2f;
            var epochs = history.Select(m => (double)m.Epoch).ToArray();
            DrawPanel(canvas, new SKRect(20, 20, 20 + panelWidth, Height - 20), "loss", epochs,
                history.Select(m => m.TrainLoss).ToArray(),
                history.Select(m => m.ValidationLoss ?? double.NaN).ToArray(), keptEpoch, percent: false);
            DrawPanel(canvas, new SKRect(40 + panelWidth, 20, Width - 20, Height - 20), "accuracy", epochs,
                history.Select(m => m.TrainAccuracy).ToArray(),
                history.Select(m => m.ValidationAccuracy ?? double.NaN).ToArray(), keptEpoch, percent: true);
        });
    }

    private static void DrawPanel(SKCanvas canvas, SKRect panel, string title, double[] epochs, double[] train,
        double[] validation, int? keptEpoch, bool percent)
    {
        using var titleFont = PictureFonts.Create(15);
        using var tickFont = PictureFonts.Create(11);
        var plot = new SKRect(panel.Left + 52, panel.Top + 30, panel.Right - 8, panel.Bottom - 36);

        var values = train.Concat(validation).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
        double low = percent ? 0 : Math.Min(0, values.Min()), high = percent ? 1 : values.Max();
        double step = percent ? 0.25 : RoundStep(Math.Max(high - low, 1e-9) / 4);
        high = percent ? 1 : Math.Max(Math.Ceiling(high / step), 1) * step;
        low = Math.Floor(low / step) * step;
        double firstEpoch = epochs[0], lastEpoch = Math.Max(epochs[^1], firstEpoch + 1);

        // A little room at both ends keeps the first epoch's marker off the y-axis.
        const float Inset = 8;
        float X(double epoch) => plot.Left + Inset
            + (float)((epoch - firstEpoch) / (lastEpoch - firstEpoch)) * (plot.Width - 2 * Inset);
        float Y(double value) => plot.Bottom - (float)((value - low) / (high - low)) * plot.Height;

        PngFile.Text(canvas, title, panel.Left, panel.Top + 14, titleFont, SKColors.Black);
        using var axis = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1, IsAntialias = true };
        using var gridLine = new SKPaint { Color = new SKColor(230, 230, 230), StrokeWidth = 1 };
        for (double value = low; value <= high + step / 2; value += step)
        {
            canvas.DrawLine(plot.Left, Y(value), plot.Right, Y(value), gridLine);
            string text = percent
                ? value.ToString("P0", CultureInfo.InvariantCulture)
                : value.ToString("G3", CultureInfo.InvariantCulture);
            PngFile.Text(canvas, text, plot.Left - 6, Y(value) + 4, tickFont, SKColors.DimGray, SKTextAlign.Right);
        }
        foreach (double epoch in EpochTicks(firstEpoch, lastEpoch))
            PngFile.Text(canvas, epoch.ToString(CultureInfo.InvariantCulture), X(epoch), plot.Bottom + 16, tickFont,
                SKColors.DimGray, SKTextAlign.Center);
        PngFile.Text(canvas, "epoch", plot.MidX, plot.Bottom + 32, tickFont, SKColors.DimGray, SKTextAlign.Center);
        canvas.DrawLine(plot.Left, plot.Top, plot.Left, plot.Bottom, axis);
        canvas.DrawLine(plot.Left, plot.Bottom, plot.Right, plot.Bottom, axis);

        if (keptEpoch is { } kept)
        {
            using var marker = new SKPaint
            {
                Color = SKColors.Gray, StrokeWidth = 1, PathEffect = SKPathEffect.CreateDash([4, 4], 0),
            };
            canvas.DrawLine(X(kept), plot.Top, X(kept), plot.Bottom, marker);
        }

        DrawSeries(canvas, epochs, train, X, Y, TrainColor);
        DrawSeries(canvas, epochs, validation, X, Y, ValidationColor);
        DrawLegend(canvas, plot, tickFont, validation.Any(double.IsFinite), keptEpoch is not null);
    }

    private static void DrawSeries(SKCanvas canvas, double[] epochs, double[] values, Func<double, float> x,
        Func<double, float> y, SKColor color)
    {
        using var line = new SKPaint { Color = color, StrokeWidth = 2, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var dot = new SKPaint { Color = color, IsAntialias = true };
        using var path = new SKPath();
        bool open = false;
        for (int i = 0; i < epochs.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                open = false;
                continue;
            }
            var point = new SKPoint(x(epochs[i]), y(values[i]));
            if (open)
                path.LineTo(point);
            else
                path.MoveTo(point);
            open = true;
            canvas.DrawCircle(point, 3, dot);
        }
        canvas.DrawPath(path, line);
    }

    private static void DrawLegend(SKCanvas canvas, SKRect plot, SKFont font, bool hasValidation, bool hasKept)
    {
        var entries = new List<(string, SKColor)> { ("training", TrainColor) };
        if (hasValidation)
            entries.Add(("validation", ValidationColor));
        if (hasKept)
            entries.Add(("kept epoch", SKColors.Gray));
        float y = plot.Top - 12;
        float x = plot.Right;
        foreach (var (name, color) in Enumerable.Reverse(entries))
        {
            float textWidth = font.MeasureText(name);
            PngFile.Text(canvas, name, x, y + 4, font, SKColors.Black, SKTextAlign.Right);
            using var swatch = new SKPaint { Color = color, StrokeWidth = 3 };
            canvas.DrawLine(x - textWidth - 22, y, x - textWidth - 6, y, swatch);
            x -= textWidth + 36;
        }
    }

    /// <summary>The tick step of 1, 2, 2.5 or 5 times a power of ten nearest above <paramref name="raw"/>.</summary>
    private static double RoundStep(double raw)
    {
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double scaled = raw / magnitude;
        return magnitude * (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 2.5 ? 2.5 : scaled <= 5 ? 5 : 10);
    }

    /// <summary>At most about ten whole-epoch ticks from the first to the last epoch.</summary>
    private static IEnumerable<double> EpochTicks(double first, double last)
    {
        double step = Math.Max(1, Math.Ceiling((last - first) / 10));
        for (double epoch = first; epoch <= last + 1e-9; epoch += step)
            yield return epoch;
    }
}
