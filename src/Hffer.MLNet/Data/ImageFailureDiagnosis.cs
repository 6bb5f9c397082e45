using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Data;

/// <summary>
/// Turns an image-decoding failure inside ML.NET's (parallel) cursor, whose message names neither row nor file,
/// into an error that names the file.
/// </summary>
internal static class ImageFailureDiagnosis
{
    /// <summary>
    /// Re-reads the text columns of <paramref name="source"/> without decoding images, tries to decode every value
    /// that is an existing file path, and reports the first file that fails; falls back to the original error.
    /// </summary>
    /// <param name="source">The data whose image column failed, with its path column.</param>
    /// <param name="failure">What ML.NET threw.</param>
    /// <param name="purpose">What the data was for, as the message says it: "training" or "scored".</param>
    public static InvalidDataException Explain(IDataView source, Exception failure, string purpose = "training")
    {
        foreach (var (row, path) in TextCells(source))
        {
            if (path.Length == 0)
                continue;
            if (!File.Exists(path))
            {
                string extension = Path.GetExtension(path);
                if (HfferDataCatalog.ImageExtensions.Contains(extension, StringComparer.OrdinalIgnoreCase))
                    return new InvalidDataException(
                        $"Row {row} of the {purpose} data: the image file '{path}' does not exist.", failure);
                continue;
            }
            try
            {
                using var image = MLImage.CreateFromFile(path);
            }
            catch (Exception)
            {
                return new InvalidDataException(
                    $"Row {row} of the {purpose} data: the image file '{path}' could not be decoded as an image " +
                    $"({Innermost(failure).Message}).", failure);
            }
        }

        return new InvalidDataException($"The {purpose} images could not be read: {Innermost(failure).Message}", failure);
    }

    /// <summary>
    /// The first text value of each row in <paramref name="rows"/> (row numbers of <paramref name="source"/>) that
    /// looks like a file path (image columns are not read, so nothing is decoded).
    /// </summary>
    public static IReadOnlyDictionary<long, string> PathsOfRows(IDataView source, IReadOnlySet<long> rows)
    {
        var paths = new Dictionary<long, string>();
        foreach (var (row, text) in TextCells(source))
        {
            if (paths.Count == rows.Count)
                break;
            if (rows.Contains(row) && !paths.ContainsKey(row)
                && (text.IndexOfAny(['/', '\\']) >= 0 || File.Exists(text)))
                paths[row] = text;
        }
        return paths;
    }

    /// <summary>Every text value of <paramref name="source"/>, row by row, without reading its image columns.</summary>
    private static IEnumerable<(long Row, string Text)> TextCells(IDataView source)
    {
        var textColumns = source.Schema.Where(c => c.Type is TextDataViewType).ToArray();
        using var cursor = source.GetRowCursor(textColumns);
        var getters = textColumns.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
        ReadOnlyMemory<char> value = default;
        for (long row = 0; cursor.MoveNext(); row++)
        {
            foreach (var getter in getters)
            {
                getter(ref value);
                yield return (row, value.ToString());
            }
        }
    }

    /// <summary>The exception at the bottom of <paramref name="exception"/>'s inner-exception chain.</summary>
    public static Exception Innermost(Exception exception) =>
        exception.InnerException is null ? exception : Innermost(exception.InnerException);
}
