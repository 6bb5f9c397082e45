using Hffer.MLNet.Data;
using Hffer.MLNet.Visualization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Quickstart;

/// <summary>Console output of the quickstart.</summary>
internal static class Report
{
    public static void Print(MulticlassClassificationMetrics metrics, IReadOnlyList<string> classNames)
    {
        var confusion = metrics.ConfusionMatrix;
        var classes = HfferClassMetrics.FromConfusionMatrix(confusion, classNames);
        Console.WriteLine();
        Console.WriteLine($"Test accuracy: {metrics.MicroAccuracy:P2} (chance: {1.0 / classes.Count:P2})");
        Console.WriteLine($"{"class",-10} {"recall",7} {"precision",9} {"F1",6}");
        foreach (var c in classes)
            Console.WriteLine($"{c.Name,-10} {c.Recall,7:P1} {c.Precision,9:P1} {c.F1,6:F3}");
        Console.WriteLine($"Macro-F1: {classes.Average(c => c.F1):F4}   macro accuracy (mean recall): " +
            $"{metrics.MacroAccuracy:P2}");
        Console.WriteLine();
        Console.WriteLine("Confusion matrix (rows: true class, columns: predicted), classes in this order:");
        Console.WriteLine("  " + string.Join(", ", classNames.Select((n, i) => $"{i}={n}")));
        Console.WriteLine(confusion.GetFormattedConfusionTable());
    }

    public static void PrintPredictions(MLContext ml, ITransformer model, IReadOnlyList<ImageFolderRow> rows,
        IReadOnlyList<string> classNames)
    {
        var scored = model.Transform(ml.Data.LoadFromEnumerable(rows));
        var predicted = ml.Transforms.Conversion.MapKeyToValue("PredictedName", "PredictedLabel").Fit(scored)
            .Transform(scored);
        var names = predicted.GetColumn<ReadOnlyMemory<char>>("PredictedName").ToArray();
        var scores = predicted.GetColumn<float[]>("Score").ToArray();

        Console.WriteLine("Scoring with the reloaded model:");
        for (int i = 0; i < rows.Count; i++)
        {
            int best = Array.IndexOf(scores[i], scores[i].Max());
            Console.WriteLine($"  {Path.GetFileName(rows[i].ImagePath),-24} true {rows[i].Label,-9} " +
                $"predicted {names[i],-9} ({classNames[best]} {scores[i][best]:P1})");
        }
    }

    /// <summary>Writes through a temporary file and renames it, so a failed save never leaves a broken file.</summary>
    public static void SaveAtomically(string path, Action<string> save)
    {
        string temporary = path + ".tmp";
        save(temporary);
        File.Move(temporary, path, overwrite: true);
    }
}
