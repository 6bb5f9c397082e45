namespace Hffer.MLNet.Scoring;

/// <summary>Settings of <see cref="HfferTransformer.CreateBatchScorer"/>.</summary>
public sealed class HfferBatchScoringOptions
{
    /// <summary>
    /// Images per ONNX Runtime call. Memory held is about this many images' pixels and scores; larger batches
    /// amortize per-call overhead (see docs/benchmarks.md for the measured effect).
    /// </summary>
    public int BatchSize = 32;

    /// <summary>
    /// CUDA device to score on with ONNX Runtime's CUDA execution provider; null scores where the transformer does
    /// (the device <c>Fit</c> resolved).
    /// </summary>
    public int? GpuDeviceId;

    /// <summary>
    /// Whether an unusable <see cref="GpuDeviceId"/> falls back to the CPU with a warning instead of failing; null
    /// takes the transformer's setting.
    /// </summary>
    public bool? FallbackToCpu;

    /// <summary>
    /// Threads ONNX Runtime uses inside one operator; null lets it choose (one per physical core), which measured
    /// best on the CPU (docs/benchmarks.md). Lower it when several scorers share a machine.
    /// </summary>
    public int? IntraOpThreads;

    internal void Validate()
    {
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "At least one image per batch.");
        if (GpuDeviceId < 0)
            throw new ArgumentOutOfRangeException(nameof(GpuDeviceId), GpuDeviceId, "A GPU index is 0 or more.");
        if (IntraOpThreads < 1)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads,
                "At least one thread, or null to let ONNX Runtime choose.");
    }
}
