using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace Hffer.MLNet.Data;

/// <summary>
/// Decoded training images held in memory as planar RGB bytes (a quarter of the float size), one array per image so
/// that no single array limits the set's size, with zero-based class indices. An ONNX prior gets its own copy of
/// each image at its input size, held only until its features are cached.
/// </summary>
internal sealed class ImageSet
{
    private readonly byte[][] _images;
    private byte[][]? _priorImages;

    public ImageSet(IReadOnlyList<byte[]> images, IReadOnlyList<int> labels, int imageSize,
        IReadOnlyList<byte[]>? priorImages = null, int priorImageSize = 0)
    {
        if (images.Count != labels.Count)
            throw new ArgumentException($"{images.Count} images but {labels.Count} labels.");
        CheckSizes(images, imageSize);
        if (priorImages is not null)
        {
            if (priorImages.Count != images.Count)
                throw new ArgumentException($"{images.Count} images but {priorImages.Count} prior images.");
            CheckSizes(priorImages, priorImageSize);
            _priorImages = [.. priorImages];
        }

        _images = [.. images];
        Labels = [.. labels];
        ImageSize = imageSize;
        PriorImageSize = priorImageSize;
    }

    /// <summary>Splits <paramref name="pixels"/>, the images one after the other, into a set.</summary>
    public ImageSet(byte[] pixels, IReadOnlyList<int> labels, int imageSize)
        : this(pixels.Chunk(3 * imageSize * imageSize).ToArray(), labels, imageSize)
    {
        if (pixels.Length != labels.Count * 3 * imageSize * imageSize)
            throw new ArgumentException($"{pixels.Length} pixel bytes do not hold {labels.Count} images of {imageSize}.");
    }

    public int Count => Labels.Count;

    public int ImageSize { get; }

    /// <summary>Side of the prior's copies of the images; 0 when there are none.</summary>
    public int PriorImageSize { get; }

    public IReadOnlyList<int> Labels { get; }

    /// <summary>The planar RGB bytes of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> Image(int index) => _images[index];

    /// <summary>The planar RGB bytes of the prior's copy of image <paramref name="index"/>.</summary>
    /// <exception cref="InvalidOperationException">The set holds no prior copies (any more).</exception>
    public ReadOnlySpan<byte> PriorImage(int index) => (_priorImages ?? throw new InvalidOperationException(
        "The prior's copies of the images were not read or were already released."))[index];

    /// <summary>Drops the prior's copies (their features are cached by then) to free their memory.</summary>
    public void ReleasePriorImages() => _priorImages = null;

    /// <summary>
    /// SHA-256 of the image size, every image's pixels and every label, in order: two sets with the same value
    /// train identically.
    /// </summary>
    public string ContentHash()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(ImageSize));
        foreach (var image in _images)
            hash.AppendData(image);
        foreach (int label in Labels)
            hash.AppendData(BitConverter.GetBytes(label));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The images at <paramref name="indices"/> as float 0-255 values [n, 3, S, S] on <paramref name="device"/>.</summary>
    public Tensor Pixels(ReadOnlySpan<int> indices, Device device)
    {
        // Copied straight into native memory: training steps run in a no-GC region with a fixed managed budget.
        using var bytes = empty([indices.Length, 3, ImageSize, ImageSize], dtype: ScalarType.Byte);
        var destination = bytes.bytes;
        int imageBytes = 3 * ImageSize * ImageSize;
        for (int i = 0; i < indices.Length; i++)
            _images[indices[i]].CopyTo(destination.Slice(i * imageBytes, imageBytes));
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
        return new ImageSet(indices.Select(i => _images[i]).ToArray(), indices.Select(i => Labels[i]).ToArray(),
            ImageSize, _priorImages is { } prior ? indices.Select(i => prior[i]).ToArray() : null, PriorImageSize);
    }

    private static void CheckSizes(IReadOnlyList<byte[]> images, int imageSize)
    {
        int imageBytes = 3 * imageSize * imageSize;
        if (images.FirstOrDefault(image => image.Length != imageBytes) is { } wrong)
            throw new ArgumentException($"An image of {wrong.Length} bytes is not 3 x {imageSize} x {imageSize}.");
    }

    public Tensor Targets(ReadOnlySpan<int> indices, Device device)
    {
        var targets = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
            targets[i] = Labels[indices[i]];
        return tensor(targets, device: device);
    }
}
