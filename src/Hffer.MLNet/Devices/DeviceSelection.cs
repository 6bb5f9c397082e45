using static TorchSharp.torch;

namespace Hffer.MLNet.Devices;

/// <summary>Where training and scoring run.</summary>
/// <param name="Training">The TorchSharp device.</param>
/// <param name="ScoringGpuDeviceId">The CUDA device ONNX Runtime scores on; null for the CPU.</param>
internal sealed record DeviceSelection(Device Training, int? ScoringGpuDeviceId)
{
    /// <summary>Where each backend runs, in words, for the log.</summary>
    public string Describe() =>
        $"Training on {(Training.type == TorchSharp.DeviceType.CUDA ? $"CUDA device {Training.index}" : "the CPU")}, " +
        $"scoring on {(ScoringGpuDeviceId is { } gpu ? $"CUDA device {gpu}" : "the CPU")}.";

    /// <summary>
    /// Checks both backends before any work: a GPU either backend cannot use is refused naming the package to
    /// reference, or replaced by the CPU with a warning when falling back is allowed.
    /// </summary>
    /// <param name="request">What the user asked for.</param>
    /// <param name="needsTraining">False when only scoring sessions are opened.</param>
    /// <param name="warn">Receives one message per backend that falls back.</param>
    /// <exception cref="ArgumentOutOfRangeException">The GPU index is negative.</exception>
    /// <exception cref="InvalidOperationException">A backend cannot use the GPU and fallback is off.</exception>
    public static DeviceSelection Resolve(DeviceRequest request, bool needsTraining, Action<string> warn)
    {
        if (request.GpuDeviceId is not { } gpu)
            return new(CPU, null);
        if (gpu < 0)
            throw new ArgumentOutOfRangeException(request.Source, gpu, "A GPU index is 0 or more.");

        string? trainingProblem = needsTraining ? TrainingDevice.Problem(gpu) : null;
        string? scoringProblem = ScoringDevice.Problem(gpu);
        string[] problems = new[] { trainingProblem, scoringProblem }.OfType<string>().ToArray();
        if (problems.Length > 0 && !request.FallbackToCpu)
            throw new InvalidOperationException(
                $"{request.Source} is {gpu}, but {string.Join(" ", problems)} Set FallbackToCpu to use the CPU " +
                "instead." + (needsTraining ? " Nothing was trained." : ""));

        if (trainingProblem is not null)
            warn($"{request.Source} is {gpu}, but {trainingProblem} Training on the CPU (FallbackToCpu is set).");
        if (scoringProblem is not null)
            warn($"{request.Source} is {gpu}, but {scoringProblem} Scoring on the CPU (FallbackToCpu is set); " +
                "loading a saved model into an MLContext that asks for this GPU fails the same way.");
        return new(trainingProblem is null ? new Device(TorchSharp.DeviceType.CUDA, gpu) : CPU,
            scoringProblem is null ? gpu : null);
    }
}
