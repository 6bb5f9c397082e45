using Microsoft.ML;
using Microsoft.ML.Data;

namespace Hffer.MLNet.Data;

/// <summary>
/// Reads the pixel vectors produced by ML.NET's <c>ResizeImages</c> + <c>ExtractPixels</c> and the key label of every
/// row into an <see cref="ImageSet"/>.
/// </summary>
internal static class ImageSetReader
{
    /// <exception cref="InvalidDataException">A row has a missing or out-of-range label, or an image failed to load.</exception>
    public static ImageSet Read(IDataView source, IDataView data, string pixelsColumn, string labelColumn, int imageSize,
        int classCount, CancellationToken cancellation)
    {
        int imageBytes = 3 * imageSize * imageSize;
        var pixelColumn = data.Schema[pixelsColumn];
        var keyColumn = data.Schema[labelColumn];
        var images = new List<byte[]>();
        var labels = new List<int>();

        using var cursor = data.GetRowCursor([pixelColumn, keyColumn]);
        var pixelGetter = cursor.GetGetter<VBuffer<float>>(pixelColumn);
        var labelGetter = cursor.GetGetter<uint>(keyColumn);
        VBuffer<float> buffer = default;
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
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw ImageFailureDiagnosis.Explain(source, e);
            }

            if (key == 0 || key > classCount)
                throw new InvalidDataException(
                    $"Row {position} has a missing label (a value not in the label column's key set).");

            var row = new byte[imageBytes];
            var values = buffer.DenseValues().GetEnumerator();
            for (int i = 0; i < imageBytes && values.MoveNext(); i++)
                row[i] = (byte)Math.Clamp(MathF.Round(values.Current), 0f, 255f);
            images.Add(row);
            labels.Add((int)key - 1);
            position++;
        }

        return new ImageSet(images, labels, imageSize);
    }
}
