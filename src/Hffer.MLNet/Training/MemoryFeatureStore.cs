namespace Hffer.MLNet.Training;

/// <summary>Prior features in managed arrays, one per image and variant, so no array outgrows .NET's limit.</summary>
internal sealed class MemoryFeatureStore(int imageCount, int featureLength) : IPriorFeatureStore
{
    private readonly float[]?[] _plain = new float[imageCount][];
    private readonly float[]?[] _mirrored = new float[imageCount][];

    public int FeatureLength => featureLength;

    public bool Contains(int index, bool mirrored) => Entries(mirrored)[index] is not null;

    public void Read(int index, bool mirrored, Span<float> destination) =>
        (Entries(mirrored)[index] ?? throw new InvalidOperationException($"No cached features for image {index}."))
        .CopyTo(destination);

    public void Write(int index, bool mirrored, ReadOnlySpan<float> features) =>
        Entries(mirrored)[index] = features.ToArray();

    private float[]?[] Entries(bool mirrored) => mirrored ? _mirrored : _plain;
}
