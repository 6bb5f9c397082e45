using Microsoft.ML.Data;

namespace Hffer.MLNet.Scoring;

/// <summary>
/// The pixels of one batch of images (and their prior-size copies), reused from batch to batch. The arrays grow as
/// images arrive, up to the batch size, so a short stream never pays for a large batch size.
/// </summary>
internal sealed class PixelBatch(int side, int? priorSide, int batchSize)
{
    private const int FirstCapacity = 8;

    public int PixelLength { get; } = 3 * side * side;

    public int PriorPixelLength { get; } = priorSide is { } s ? 3 * s * s : 0;

    public float[] Pixels { get; private set; } = [];

    public float[]? PriorPixels { get; private set; }

    public int Count { get; set; }

    /// <summary>Why each image that could not be read (by its index in this batch) is missing; cleared on reuse.</summary>
    public Dictionary<int, string> Unreadable { get; } = [];

    /// <summary>The largest batch whose pixels fit in one .NET array at this side.</summary>
    public static int MaxBatchSize(int side) => Array.MaxLength / (3 * side * side);

    public void AddPixels(VBuffer<float> row)
    {
        Pixels = Grown(Pixels, PixelLength);
        Copy(row, Pixels, PixelLength);
    }

    public void AddPriorPixels(VBuffer<float> row)
    {
        PriorPixels = Grown(PriorPixels ?? [], PriorPixelLength);
        Copy(row, PriorPixels, PriorPixelLength);
    }

    /// <summary>
    /// Holds the place of an image that could not be read: zero pixels keep the batch's shape, and its prediction is
    /// replaced by <paramref name="reason"/>.
    /// </summary>
    public void AddUnreadable(string reason)
    {
        Pixels = Grown(Pixels, PixelLength);
        Pixels.AsSpan(Count * PixelLength, PixelLength).Clear();
        if (PriorPixelLength > 0)
        {
            PriorPixels = Grown(PriorPixels ?? [], PriorPixelLength);
            PriorPixels.AsSpan(Count * PriorPixelLength, PriorPixelLength).Clear();
        }
        Unreadable[Count] = reason;
    }

    /// <summary><paramref name="array"/>, or a larger copy when image <see cref="Count"/> does not fit in it.</summary>
    private float[] Grown(float[] array, int length)
    {
        if ((Count + 1) * length <= array.Length)
            return array;
        int images = Math.Min(batchSize, Math.Max(FirstCapacity, 2 * Math.Max(Count, array.Length / length)));
        var grown = new float[images * length];
        array.AsSpan().CopyTo(grown);
        return grown;
    }

    private void Copy(VBuffer<float> row, float[] destination, int length)
    {
        var target = destination.AsSpan(Count * length, length);
        if (row.IsDense)
            row.GetValues().CopyTo(target);
        else
            row.DenseValues().ToArray().CopyTo(target);
    }
}
