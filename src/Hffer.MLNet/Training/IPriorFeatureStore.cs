namespace Hffer.MLNet.Training;

/// <summary>Holds the frozen branch's tokens of each image of one image set, plain and mirrored.</summary>
internal interface IPriorFeatureStore
{
    /// <summary>Floats per entry (tokens x width).</summary>
    int FeatureLength { get; }

    bool Contains(int index, bool mirrored);

    /// <summary>Copies the entry into <paramref name="destination"/>; the entry must exist.</summary>
    void Read(int index, bool mirrored, Span<float> destination);

    void Write(int index, bool mirrored, ReadOnlySpan<float> features);
}
