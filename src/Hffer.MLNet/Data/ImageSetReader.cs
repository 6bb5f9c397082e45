using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Data;

/// <summary>
/// Reads the pixel vectors produced by ML.NET's <c>ResizeImages</c> + <c>ExtractPixels</c> and the key label of every
/// row into an <see cref="ImageSet"/>, and the ONNX prior's own pixel column when there is one.
/// </summary>
internal static class ImageSetReader
{
    /// <summary>A pixel column and the image side it holds.</summary>
    public readonly record struct PixelColumn(string Name, int ImageSize);

    /// <param name="purpose">What the data is for, as messages say it: "training" or "validation".</param>
    /// <param name="skipUnreadable">
    /// Null to fail on the first image that cannot be read; otherwise such rows are left out and this receives one
    /// warning that counts and names them.
    /// </param>
    /// <exception cref="InvalidDataException">
    /// A row has a missing or out-of-range label, an image failed to load (when not skipping), or no image was readable.
    /// </exception>
    public static ImageSet Read(IDataView source, IDataView data, PixelColumn pixels, PixelColumn? priorPixels,
        string labelColumn, int classCount, CancellationToken cancellation, string purpose = "training",
        Action<string>? skipUnreadable = null)
    {
        var pixelColumn = data.Schema[pixels.Name];
        var priorColumn = priorPixels is { } prior ? data.Schema[prior.Name] : (DataViewSchema.Column?)null;
        var keyColumn = data.Schema[labelColumn];
        var images = new List<byte[]>();
        var priorImages = priorColumn is null ? null : new List<byte[]>();
        var labels = new List<int>();

        DataViewSchema.Column[] columns = priorColumn is { } column
            ? [pixelColumn, column, keyColumn]
            : [pixelColumn, keyColumn];

        // ML.NET's parallel cursor reports a decoding failure from MoveNext and then stops for good; a set of one
        // cursor runs on this thread, fails in the image's own getter, and can move on to the next row.
        using var cursor = skipUnreadable is null ? data.GetRowCursor(columns) : data.GetRowCursorSet(columns, 1)[0];
        var pixelGetter = cursor.GetGetter<VBuffer<float>>(pixelColumn);
        var priorGetter = priorColumn is { } readColumn ? cursor.GetGetter<VBuffer<float>>(readColumn) : null;
        var labelGetter = cursor.GetGetter<uint>(keyColumn);
        VBuffer<float> buffer = default, priorBuffer = default;
        uint key = 0;
        long position = -1;
        var skipped = new List<(long Row, string Reason)>();
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            bool more;
            try
            {
                more = cursor.MoveNext();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The parallel cursor decodes ahead and fails here, for a row it has not handed out yet.
                throw ImageFailureDiagnosis.Explain(source, e, purpose);
            }
            if (!more)
                break;
            position++;
            try
            {
                labelGetter(ref key);
                pixelGetter(ref buffer);
                priorGetter?.Invoke(ref priorBuffer);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (skipUnreadable is null)
                    throw ImageFailureDiagnosis.Explain(source, e, purpose);

                // ML.NET's image getter fails for its own row only; the cursor goes on to the next one.
                skipped.Add((position, ImageFailureDiagnosis.Innermost(e).Message));
                continue;
            }

            if (key == 0 || key > classCount)
                throw new InvalidDataException(
                    $"Row {position} has a missing label (a value not in the label column's key set).");

            images.Add(ToBytes(buffer, pixels.ImageSize));
            priorImages?.Add(ToBytes(priorBuffer, priorPixels!.Value.ImageSize));
            labels.Add((int)key - 1);
        }

        if (skipped.Count > 0)
            ReportSkipped(source, skipped, position + 1, images.Count, purpose, skipUnreadable!);
        return new ImageSet(images, labels, pixels.ImageSize, priorImages, priorPixels?.ImageSize ?? 0);
    }

    private static void ReportSkipped(IDataView source, List<(long Row, string Reason)> skipped, long rows,
        int kept, string purpose, Action<string> warn)
    {
        var paths = ImageFailureDiagnosis.PathsOfRows(source, skipped.Select(s => s.Row).ToHashSet());
        string Name((long Row, string Reason) skip) => paths.TryGetValue(skip.Row, out string? path)
            ? $"{path} (row {skip.Row}: {skip.Reason})"
            : $"row {skip.Row} ({skip.Reason})";
        const int Named = 20;
        string list = string.Join("; ", skipped.Take(Named).Select(Name)) +
            (skipped.Count > Named ? $"; and {skipped.Count - Named} more" : "");
        if (kept == 0)
            throw new InvalidDataException($"None of the {rows} {purpose} images could be read: {list}.");
        warn($"Left out {skipped.Count} of {rows} {purpose} images that could not be read: {list}.");
    }

    private static byte[] ToBytes(VBuffer<float> buffer, int imageSize)
    {
        var row = new byte[3 * imageSize * imageSize];
        var values = buffer.DenseValues().GetEnumerator();
        for (int i = 0; i < row.Length && values.MoveNext(); i++)
            row[i] = (byte)Math.Clamp(MathF.Round(values.Current), 0f, 255f);
        return row;
    }
}
