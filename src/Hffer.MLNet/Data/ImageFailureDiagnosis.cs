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
        var textColumns = source.Schema.Where(c => c.Type is TextDataViewType).ToArray();
        using var cursor = source.GetRowCursor(textColumns);
        var getters = textColumns.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
        ReadOnlyMemory<char> value = default;
        long row = 0;
        while (cursor.MoveNext())
        {
            foreach (var getter in getters)
            {
                getter(ref value);
                string path = value.ToString();
                if (path.Length > 0 && !File.Exists(path)
                    && HfferDataCatalog.ImageExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase))
                    return new InvalidDataException(
                        $"Row {row} of the {purpose} data: the image file '{path}' does not exist.", failure);
                if (path.Length == 0 || !File.Exists(path))
                    continue;
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
            row++;
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
        var textColumns = source.Schema.Where(c => c.Type is TextDataViewType).ToArray();
        using var cursor = source.GetRowCursor(textColumns);
        var getters = textColumns.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
        ReadOnlyMemory<char> value = default;
        for (long row = 0; paths.Count < rows.Count && cursor.MoveNext(); row++)
        {
            if (!rows.Contains(row))
                continue;
            foreach (var getter in getters)
            {
                getter(ref value);
                string text = value.ToString();
                if (text.IndexOfAny(['/', '\\']) >= 0 || File.Exists(text))
                {
                    paths[row] = text;
                    break;
                }
            }
        }
        return paths;
    }

    /// <summary>The exception at the bottom of <paramref name="exception"/>'s inner-exception chain.</summary>
    public static Exception Innermost(Exception exception) =>
        exception.InnerException is null ? exception : Innermost(exception.InnerException);
}
