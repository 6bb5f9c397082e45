using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Data;

/// <summary>
/// Decoded training images held in memory as planar RGB bytes (a quarter of the float size) with zero-based
/// class indices.
/// </summary>
internal sealed class ImageSet
{
    private readonly byte[] _pixels;

    public ImageSet(byte[] pixels, int[] labels, int imageSize)
    {
        int imageBytes = 3 * imageSize * imageSize;
        if (pixels.Length != labels.Length * imageBytes)
            throw new ArgumentException($"{pixels.Length} pixel bytes do not hold {labels.Length} images of {imageSize}.");

        _pixels = pixels;
        Labels = labels;
        ImageSize = imageSize;
    }

    public int Count => Labels.Count;

    public int ImageSize { get; }

    public IReadOnlyList<int> Labels { get; }

    private int ImageBytes => 3 * ImageSize * ImageSize;

    /// <summary>The planar RGB bytes of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => _pixels.AsSpan(index * ImageBytes, ImageBytes);

    /// <summary>
    /// SHA-256 of the image size, every image's pixels and every label, in order: two sets with the same value
    /// train identically.
    /// </summary>
    public string ContentHash()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(ImageSize));
        hash.AppendData(_pixels);
        foreach (int label in Labels)
            hash.AppendData(BitConverter.GetBytes(label));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The images at <paramref name="indices"/> as float 0-255 values [n, 3, S, S] on <paramref name="device"/>.</summary>
    public Tensor Pixels(ReadOnlySpan<int> indices, Device device)
    {
        var batch = new byte[indices.Length * ImageBytes];
        for (int i = 0; i < indices.Length; i++)
            Array.Copy(_pixels, (long)indices[i] * ImageBytes, batch, (long)i * ImageBytes, ImageBytes);

        using var bytes = tensor(batch, [indices.Length, 3, ImageSize, ImageSize], dtype: ScalarType.Byte);
        return bytes.to(ScalarType.Float32, device);
    }

    /// <summary>A seeded random split: <paramref name="fraction"/> of the images (at least one) go to the second set.</summary>
    public (ImageSet Training, ImageSet Validation) Split(double fraction, int seed)
    {
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        int validationCount = Math.Clamp((int)Math.Round(Count * fraction), 1, Count - 1);
        return (Subset(order[validationCount..]), Subset(order[..validationCount]));
    }

    private ImageSet Subset(int[] indices)
    {
        Array.Sort(indices);
        var pixels = new byte[indices.Length * ImageBytes];
        for (int i = 0; i < indices.Length; i++)
            Array.Copy(_pixels, (long)indices[i] * ImageBytes, pixels, (long)i * ImageBytes, ImageBytes);
        return new ImageSet(pixels, indices.Select(i => Labels[i]).ToArray(), ImageSize);
    }

    public Tensor Targets(ReadOnlySpan<int> indices, Device device)
    {
        var targets = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
            targets[i] = Labels[indices[i]];
        return tensor(targets, device: device);
    }
}
