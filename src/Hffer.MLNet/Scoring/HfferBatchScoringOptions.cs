namespace Hffer.MLNet.Scoring;

/// <summary>
/// Settings of <see cref="HfferTransformer.CreateBatchScorer"/> and <see cref="HfferBatchScorer.FromOnnx"/>.
/// </summary>
public sealed class HfferBatchScoringOptions
{
    /// <summary>
    /// Images per ONNX Runtime call. Memory held is at most three batches of pixels; larger batches amortize
    /// per-call overhead (docs/benchmarks.md has the measured effect).
    /// </summary>
    public int BatchSize = 32;

    /// <summary>
    /// CUDA device to score on with ONNX Runtime's CUDA execution provider; null scores where the transformer does
    /// (the device <c>Fit</c> resolved), or for <see cref="HfferBatchScorer.FromOnnx"/> on the context's
    /// <c>GpuDeviceId</c>.
    /// </summary>
    public int? GpuDeviceId;

    /// <summary>
    /// Whether an unusable <see cref="GpuDeviceId"/> falls back to the CPU with a warning instead of failing; null
    /// takes the transformer's setting (the context's for <see cref="HfferBatchScorer.FromOnnx"/>).
    /// </summary>
    public bool? FallbackToCpu;

    /// <summary>
    /// Threads ONNX Runtime uses inside one operator; null lets it choose (one per physical core), which measured
    /// best on the CPU (docs/benchmarks.md). Lower it when several scorers share a machine.
    /// </summary>
    public int? IntraOpThreads;

    /// <summary>
    /// The image column <see cref="HfferBatchScorer.Score"/> reads; null takes the estimator's
    /// <see cref="HfferOptions.ImageColumnName"/> (or "Image" for <see cref="HfferBatchScorer.FromOnnx"/>).
    /// </summary>
    public string? ImageColumnName;

    /// <summary>
    /// Whether each prediction carries <see cref="HfferPrediction.AttentionMaps"/>, the deepest fusion module's
    /// attention over the IR50 and frozen-branch token grids (for pictures such as
    /// <see cref="Visualization.AttentionPicture"/>). Costs two more outputs per call; scores are unchanged.
    /// </summary>
    public bool IncludeAttentionMaps;

    /// <summary>
    /// Whether an image that cannot be read (corrupt, not an image, empty, missing) gets a prediction carrying
    /// <see cref="HfferPrediction.Error"/> instead of stopping the enumeration. Off by default: the first such image
    /// throws an <see cref="InvalidDataException"/> naming it. Skipping reads images on one thread.
    /// </summary>
    public bool SkipUnreadableImages;

    /// <param name="imageSide">The largest input side, once known: bounds the batch size by .NET's array size.</param>
    internal void Validate(int? imageSide = null)
    {
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "At least one image per batch.");
        if (imageSide is { } side && BatchSize > PixelBatch.MaxBatchSize(side))
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize,
                $"At most {PixelBatch.MaxBatchSize(side):N0} images of {side} pixels fit in one batch buffer.");
        if (GpuDeviceId < 0)
            throw new ArgumentOutOfRangeException(nameof(GpuDeviceId), GpuDeviceId, "A GPU index is 0 or more.");
        if (IntraOpThreads < 1)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads,
                "At least one thread, or null to let ONNX Runtime choose.");
        if (ImageColumnName is { Length: 0 })
            throw new ArgumentException("The image column name is empty.", nameof(ImageColumnName));
    }
}
