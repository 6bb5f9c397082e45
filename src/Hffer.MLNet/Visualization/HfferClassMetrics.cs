using Microsoft.ML.Data;

namespace Hffer.MLNet.Visualization;

/// <summary>How well one class was recognised in an evaluation.</summary>
/// <param name="Name">The class name.</param>
/// <param name="Support">Test images of this class.</param>
/// <param name="Recall">Share of its images predicted as it.</param>
/// <param name="Precision">Share of the images predicted as it that are it (0 when none were).</param>
/// <param name="F1">Harmonic mean of recall and precision (0 when both are 0).</param>
public sealed record HfferClassMetrics(string Name, long Support, double Recall, double Precision, double F1)
{
    /// <summary>Per-class metrics of an ML.NET evaluation's confusion matrix.</summary>
    /// <param name="matrix">From <c>MulticlassClassification.Evaluate(...).ConfusionMatrix</c>.</param>
    /// <param name="classNames">Names in key order (<see cref="HfferTransformer.ClassNames"/>).</param>
    public static IReadOnlyList<HfferClassMetrics> FromConfusionMatrix(ConfusionMatrix matrix,
        IReadOnlyList<string> classNames) => FromCounts(CountsOf(matrix), classNames);

    /// <summary>The matrix's counts as whole numbers, [true class][predicted class].</summary>
    internal static IReadOnlyList<IReadOnlyList<long>> CountsOf(ConfusionMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        return matrix.Counts
            .Select(row => (IReadOnlyList<long>)row.Select(count => (long)Math.Round(count)).ToArray())
            .ToArray();
    }

    /// <summary>Per-class metrics from counts[true class][predicted class].</summary>
    public static IReadOnlyList<HfferClassMetrics> FromCounts(IReadOnlyList<IReadOnlyList<long>> counts,
        IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(classNames);
        int classes = classNames.Count;
        var metrics = new HfferClassMetrics[classes];
        for (int c = 0; c < classes; c++)
        {
            long truePositives = counts[c][c];
            long actual = counts[c].Sum();
            long predicted = Enumerable.Range(0, classes).Sum(row => counts[row][c]);
            double recall = actual == 0 ? 0 : (double)truePositives / actual;
            double precision = predicted == 0 ? 0 : (double)truePositives / predicted;
            double f1 = recall + precision == 0 ? 0 : 2 * recall * precision / (recall + precision);
            metrics[c] = new HfferClassMetrics(classNames[c], actual, recall, precision, f1);
        }
        return metrics;
    }
}
