using Hffer.MLNet.Training;
using Hffer.MLNet.Visualization;
using SkiaSharp;

namespace Hffer.MLNet.Tests.Visualization;

/// <summary>The pictures' sizes, read back from the files, and what is drawn where.</summary>
public class PictureTests
{
    [Fact]
    public void ConfusionMatrixCellsAreShadedByTheShareOfTheirRow()
    {
        using var folder = new TemporaryFolder();
        long[][] counts = [[30, 0, 0], [0, 5, 5], [1, 0, 0]];

        var picture = ConfusionMatrixPicture.Save(counts, ["angry", "happy", "sad"], Path.Combine(folder.Path, "m.png"));

        // 120 px of row labels, 64 px per cell, 24 px right; 84 px above the cells, 40 px below.
        Assert.Equal((120 + 3 * 64 + 24, 84 + 3 * 64 + 40), PngHeader.Size(picture.Path));
        Assert.Equal((picture.Width, picture.Height), PngHeader.Size(picture.Path));
        using var bitmap = SKBitmap.Decode(picture.Path);
        SKColor CellCorner(int row, int column) => bitmap.GetPixel(120 + column * 64 + 6, 84 + row * 64 + 6);
        Assert.Equal(new SKColor(8, 48, 107), CellCorner(0, 0));
        Assert.Equal(new SKColor(247, 251, 255), CellCorner(0, 1));
        Assert.Equal(CellCorner(1, 1), CellCorner(1, 2));
        Assert.True(CellCorner(1, 1).Red is > 8 and < 247, "a half share is a middle shade");
        Assert.Equal(new SKColor(8, 48, 107), CellCorner(2, 0));
    }

    [Fact]
    public void ConfusionMatrixRefusesAMatrixThatDoesNotMatchTheClasses()
    {
        using var folder = new TemporaryFolder();
        long[][] counts = [[1, 2], [3, 4]];

        var error = Assert.Throws<ArgumentException>(() =>
            ConfusionMatrixPicture.Save(counts, ["a", "b", "c"], Path.Combine(folder.Path, "m.png")));

        Assert.StartsWith("The confusion matrix must be 3 x 3", error.Message);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void TrainingCurvesPlotEachEpochWhereItsValueIs()
    {
        using var folder = new TemporaryFolder();
        var history = Enumerable.Range(1, 5).Select(epoch => new HfferEpochMetrics
        {
            Epoch = epoch, Epochs = 5, TrainLoss = 2.0 / epoch, TrainAccuracy = 0.1 * epoch, LearningRate = 1e-4,
            ImagesPerSecond = 10, Duration = TimeSpan.FromSeconds(1), Elapsed = TimeSpan.FromSeconds(epoch),
            ValidationLoss = 2.2 / epoch, ValidationAccuracy = 0.08 * epoch,
        }).ToArray();

        var picture = TrainingCurvesPicture.Save(history, Path.Combine(folder.Path, "curves.png"), keptEpoch: 5);

        Assert.Equal((TrainingCurvesPicture.Width, TrainingCurvesPicture.Height), PngHeader.Size(picture.Path));
        using var bitmap = SKBitmap.Decode(picture.Path);

        // The accuracy panel's plot spans x 562..972 over epochs 1..5 and y 344..50 over 0..100 %: epoch 3's
        // training accuracy (30 %) is a blue dot at (767, 255.8).
        var dot = bitmap.GetPixel(767, 256);
        Assert.True(dot.Blue > 150 && dot.Red < 80, $"expected the training colour at epoch 3, got {dot}");
        Assert.Throws<ArgumentException>(() => TrainingCurvesPicture.Save([], Path.Combine(folder.Path, "x.png")));
    }
}
