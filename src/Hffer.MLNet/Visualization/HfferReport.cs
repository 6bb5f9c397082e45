using System.Globalization;
using System.Text;
using Hffer.MLNet.Data;
using Hffer.MLNet.IO;
using Hffer.MLNet.Scoring;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Visualization;

/// <summary>
/// An evaluation report in one folder: <c>report.md</c> with the metrics, the per-class table, the confusion matrix
/// and the training history, beside the pictures it shows (<c>confusion-matrix.png</c>, <c>training-curves.png</c>,
/// <c>attention-*.png</c>).
/// </summary>
public sealed class HfferReport
{
    private HfferReport(string markdownPath, HfferPicture confusionMatrix, HfferPicture? trainingCurves,
        IReadOnlyList<HfferPicture> attentionPictures, IReadOnlyList<IReadOnlyList<long>> confusionCounts,
        IReadOnlyList<HfferClassMetrics> classes)
    {
        MarkdownPath = markdownPath;
        ConfusionMatrix = confusionMatrix;
        TrainingCurves = trainingCurves;
        AttentionPictures = attentionPictures;
        ConfusionCounts = confusionCounts;
        Classes = classes;
    }

    /// <summary>The Markdown report.</summary>
    public string MarkdownPath { get; }

    /// <summary>The confusion matrix picture.</summary>
    public HfferPicture ConfusionMatrix { get; }

    /// <summary>The training curves, when the model has a training history.</summary>
    public HfferPicture? TrainingCurves { get; }

    /// <summary>One attention picture per image asked for, in order.</summary>
    public IReadOnlyList<HfferPicture> AttentionPictures { get; }

    /// <summary>The counts drawn in the confusion matrix, [true class][predicted class].</summary>
    public IReadOnlyList<IReadOnlyList<long>> ConfusionCounts { get; }

    /// <summary>Recall, precision and F1 per class, in class order.</summary>
    public IReadOnlyList<HfferClassMetrics> Classes { get; }

    /// <summary>The Markdown report's path.</summary>
    public override string ToString() => MarkdownPath;

    /// <summary>
    /// Writes the report of <paramref name="model"/>'s evaluation <paramref name="metrics"/> into
    /// <paramref name="folder"/>, with an attention picture for each of <paramref name="attentionImages"/>. Each file
    /// is written to a temporary file first, then renamed, so an interrupted report never leaves a broken file.
    /// </summary>
    /// <param name="folder">Created when missing; files of the same names are replaced.</param>
    /// <param name="model">
    /// The trained transformer: class names, training history, and the graph the attention maps come from.
    /// </param>
    /// <param name="metrics">From <c>MulticlassClassification.Evaluate</c> on <paramref name="model"/>'s output.</param>
    /// <param name="attentionImages">Images to draw attention maps for, with their known labels.</param>
    /// <exception cref="ArgumentException">The metrics' class count differs from the model's.</exception>
    /// <exception cref="InvalidDataException">An attention image cannot be read (the file is named).</exception>
    public static HfferReport Write(string folder, HfferTransformer model, MulticlassClassificationMetrics metrics,
        IEnumerable<ImageFolderRow>? attentionImages = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metrics);
        var names = model.ClassNames;
        if (metrics.ConfusionMatrix.NumberOfClasses != names.Count)
            throw new ArgumentException($"The metrics cover {metrics.ConfusionMatrix.NumberOfClasses} classes but the " +
                $"model has {names.Count}; evaluate this model's predictions.", nameof(metrics));
        Directory.CreateDirectory(folder);

        var counts = HfferClassMetrics.CountsOf(metrics.ConfusionMatrix);
        var confusion = ConfusionMatrixPicture.Save(counts, names, Path.Combine(folder, "confusion-matrix.png"));
        var curves = model.TrainingHistory.Count == 0
            ? null
            : TrainingCurvesPicture.Save(model.TrainingHistory, Path.Combine(folder, "training-curves.png"),
                model.BestEpoch);
        var attention = DrawAttention(folder, model, attentionImages?.ToArray() ?? []);
        var classes = HfferClassMetrics.FromCounts(counts, names);

        string markdownPath = Path.GetFullPath(Path.Combine(folder, "report.md"));
        string markdown = Markdown(model, metrics, counts, classes, confusion, curves, attention);
        AtomicFile.WriteAllBytes(markdownPath, Encoding.UTF8.GetBytes(markdown));
        return new HfferReport(markdownPath, confusion, curves, attention.Select(a => a.Picture).ToArray(), counts,
            classes);
    }

    private static (HfferPicture Picture, ImageFolderRow Image, HfferPrediction Prediction)[] DrawAttention(
        string folder, HfferTransformer model, ImageFolderRow[] images)
    {
        if (images.Length == 0)
            return [];
        using var scorer = model.CreateBatchScorer(new HfferBatchScoringOptions { IncludeAttentionMaps = true });
        string frozenBranch = FrozenBranchName(model);
        return scorer.ScoreFiles(images.Select(i => i.ImagePath)).Select((prediction, i) =>
        {
            string file = $"attention-{i + 1:D2}-{Path.GetFileNameWithoutExtension(images[i].ImagePath)}.png";
            var picture = AttentionPicture.Save(images[i].ImagePath, prediction, Path.Combine(folder, file),
                images[i].Label.Length == 0 ? null : images[i].Label, frozenBranch);
            return (picture, images[i], prediction);
        }).ToArray();
    }

    private static string FrozenBranchName(HfferTransformer model) =>
        model.PriorOnnxModel.IsEmpty ? "DINOv2" : "ONNX prior";

    private static string Markdown(HfferTransformer model, MulticlassClassificationMetrics metrics,
        IReadOnlyList<IReadOnlyList<long>> counts, IReadOnlyList<HfferClassMetrics> classes, HfferPicture confusion,
        HfferPicture? curves, (HfferPicture Picture, ImageFolderRow Image, HfferPrediction Prediction)[] attention)
    {
        var invariant = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        void Append(FormattableString part) => text.Append(part.ToString(invariant));
        void Line(FormattableString line) => text.AppendLine(line.ToString(invariant));
        long total = counts.Sum(row => row.Sum());

        Line($"# HFFER evaluation report");
        Line($"");
        Line($"- Test images: {total}; classes: {string.Join(", ", model.ClassNames)}");
        Line($"- Accuracy (micro): {metrics.MicroAccuracy:P2}; mean recall (macro): {metrics.MacroAccuracy:P2}");
        Append($"- Macro-F1: {classes.Average(c => c.F1):F4}; log-loss: {metrics.LogLoss:F4}; ");
        Line($"chance: {1.0 / classes.Count:P2}");
        Append($"- Network: fusion dimension {model.Architecture.FusionDim}, {model.Architecture.FusionModules} ");
        Line($"fusion modules, {model.Architecture.InputSize}-pixel input; frozen branch: {FrozenBranchName(model)}");
        if (model.TrainingHistory.Count > 0)
            Line($"- Trained {model.TrainingHistory.Count} epochs; kept {(model.BestEpoch is { } best
                ? $"epoch {best} (best validation accuracy)" : "the last epoch")}");
        Line($"");

        Line($"## Per class");
        Line($"");
        Line($"| class | images | recall | precision | F1 |");
        Line($"|---|---:|---:|---:|---:|");
        foreach (var c in classes)
            Line($"| {c.Name} | {c.Support} | {c.Recall:P1} | {c.Precision:P1} | {c.F1:F3} |");
        Line($"");

        Line($"## Confusion matrix");
        Line($"");
        Line($"Rows are true classes, columns predicted ones.");
        Line($"");
        Line($"| true \\ predicted | {string.Join(" | ", model.ClassNames)} |");
        Line($"|---|{string.Concat(Enumerable.Repeat("---:|", classes.Count))}");
        for (int row = 0; row < classes.Count; row++)
            Line($"| {model.ClassNames[row]} | {string.Join(" | ", counts[row])} |");
        Line($"");
        Line($"![Confusion matrix]({Path.GetFileName(confusion.Path)})");
        Line($"");

        if (curves is not null)
        {
            Line($"## Training");
            Line($"");
            Line($"![Training curves]({Path.GetFileName(curves.Path)})");
            Line($"");
            Line($"| epoch | loss | train accuracy | validation loss | validation accuracy | seconds |");
            Line($"|---:|---:|---:|---:|---:|---:|");
            foreach (var epoch in model.TrainingHistory)
            {
                Append($"| {epoch.Epoch}{(epoch.Epoch == model.BestEpoch ? " *" : "")} | {epoch.TrainLoss:F4} | ");
                Append($"{epoch.TrainAccuracy:P1} | {epoch.ValidationLoss?.ToString("F4", invariant) ?? "-"} | ");
                Append($"{epoch.ValidationAccuracy?.ToString("P1", invariant) ?? "-"} | ");
                Line($"{epoch.Duration.TotalSeconds:F1} |");
            }
            Line($"");
        }

        if (attention.Length > 0)
        {
            Line($"## Where the fusion looked");
            Line($"");
            Append($"The deepest fusion module's cross-attention over each branch's token grid, averaged over heads ");
            Append($"and queries; bright cells got more than the rest, and a map close to uniform stays dark. ");
            Line($"Attention shows what was read, not why the prediction was made.");
            Line($"");
            foreach (var (picture, image, prediction) in attention)
            {
                Line($"![{Path.GetFileName(image.ImagePath)}]({Path.GetFileName(picture.Path)})");
                Line($"");
            }
        }

        Line($"## About these results");
        Line($"");
        Append($"Expression recognition infers an emotional state from a face, which faces do not reliably reveal. ");
        Append($"Read these metrics as agreement with the dataset's labels on these images only; see the package's ");
        Line($"responsible-use notes before deploying it where it affects people.");
        return text.ToString();
    }
}
