using Microsoft.ML.OnnxRuntime;

namespace Hffer.MLNet.Scoring;

/// <summary>Opens ONNX Runtime sessions for batched scoring on the CPU or a CUDA device.</summary>
internal static class ScoringSessions
{
    /// <summary>
    /// A session for <paramref name="model"/> with full graph optimization (ONNX Runtime's default, kept after
    /// measuring the levels in <c>SessionTuningBenchmarks</c>) and the given intra-operator thread count.
    /// </summary>
    /// <param name="model">The ONNX model.</param>
    /// <param name="gpuDeviceId">CUDA device for the CUDA execution provider; null for the CPU.</param>
    /// <param name="intraOpThreads">Threads per operator; null lets ONNX Runtime choose.</param>
    public static InferenceSession Open(byte[] model, int? gpuDeviceId, int? intraOpThreads)
    {
        using var options = gpuDeviceId is { } gpu
            ? SessionOptions.MakeSessionOptionWithCudaProvider(gpu)
            : new SessionOptions();
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        if (intraOpThreads is { } threads)
            options.IntraOpNumThreads = threads;
        return new InferenceSession(model, options);
    }
}
