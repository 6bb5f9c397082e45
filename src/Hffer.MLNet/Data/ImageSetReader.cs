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

    /// <exception cref="InvalidDataException">A row has a missing or out-of-range label, or an image failed to load.</exception>
    public static ImageSet Read(IDataView source, IDataView data, PixelColumn pixels, PixelColumn? priorPixels,
        string labelColumn, int classCount, CancellationToken cancellation)
    {
        var pixelColumn = data.Schema[pixels.Name];
        var priorColumn = priorPixels is { } prior ? data.Schema[prior.Name] : (DataViewSchema.Column?)null;
        var keyColumn = data.Schema[labelColumn];
        var images = new List<byte[]>();
        var priorImages = priorColumn is null ? null : new List<byte[]>();
        var labels = new List<int>();

        using var cursor = data.GetRowCursor(priorColumn is { } column
            ? [pixelColumn, column, keyColumn]
            : [pixelColumn, keyColumn]);
        var pixelGetter = cursor.GetGetter<VBuffer<float>>(pixelColumn);
        var priorGetter = priorColumn is { } readColumn ? cursor.GetGetter<VBuffer<float>>(readColumn) : null;
        var labelGetter = cursor.GetGetter<uint>(keyColumn);
        VBuffer<float> buffer = default, priorBuffer = default;
        uint key = 0;
        long position = 0;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                if (!cursor.MoveNext())
                    break;
                labelGetter(ref key);
                pixelGetter(ref buffer);
                priorGetter?.Invoke(ref priorBuffer);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw ImageFailureDiagnosis.Explain(source, e);
            }

            if (key == 0 || key > classCount)
                throw new InvalidDataException(
                    $"Row {position} has a missing label (a value not in the label column's key set).");

            images.Add(ToBytes(buffer, pixels.ImageSize));
            priorImages?.Add(ToBytes(priorBuffer, priorPixels!.Value.ImageSize));
            labels.Add((int)key - 1);
            position++;
        }

        return new ImageSet(images, labels, pixels.ImageSize, priorImages, priorPixels?.ImageSize ?? 0);
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
