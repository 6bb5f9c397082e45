using Hffer.MLNet.Modeling;
using static TorchSharp.torch;

namespace Hffer.MLNet.Training;

/// <summary>Everything the training loop needs, resolved from the user's options.</summary>
internal sealed record TrainingSettings
{
    public required HfferArchitecture Architecture { get; init; }

    public required int ClassCount { get; init; }

    public required int Epochs { get; init; }

    public required int BatchSize { get; init; }

    public required double LearningRate { get; init; }

    public required double LearningRateDecay { get; init; }

    public required int Seed { get; init; }

    public required Device Device { get; init; }

    public required bool HorizontalFlip { get; init; }

    public required double ShiftFraction { get; init; }

    public required double ErasingProbability { get; init; }

    public required double WeightDecay { get; init; }

    public required double LabelSmoothing { get; init; }

    public required double SmoothedLossWeight { get; init; }

    /// <summary>Optimizer steps between progress reports; 0 reports epochs only.</summary>
    public int ProgressEveryNSteps { get; init; }

    public string? Dinov2Checkpoint { get; init; }

    /// <summary>The ONNX prior replacing the DINOv2 branch; its features are always cached.</summary>
    public Priors.OnnxPrior? OnnxPrior { get; init; }

    public string? Ir50Checkpoint { get; init; }

    public bool StrictWeightLoading { get; init; } = true;

    /// <summary>Epochs without a validation-accuracy gain of more than <see cref="EarlyStoppingMinDelta"/> before stopping.</summary>
    public int? EarlyStoppingPatience { get; init; }

    public double EarlyStoppingMinDelta { get; init; }

    /// <summary>Weigh each sample's loss by N / (classes x count of its class), so rare classes count as much.</summary>
    public bool BalanceClasses { get; init; }

    public FeatureCacheMode FeatureCache { get; init; } = FeatureCacheMode.Memory;

    public string? FeatureCacheDirectory { get; init; }

    /// <summary>Whether shifts and random erasing also reach the frozen branch's input (ruling out the cache).</summary>
    public bool AugmentFrozenBranch { get; init; }

    /// <summary>Folder for the per-epoch checkpoint; null writes none.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Whether to continue from the checkpoint in <see cref="CheckpointDirectory"/> when there is one.</summary>
    public bool ResumeFromCheckpoint { get; init; }

    public Action<HfferEpochMetrics>? EpochCompleted { get; init; }

    public Action<HfferTrainingProgress>? ProgressReported { get; init; }

    /// <summary>Whether the prior features can be cached: the frozen branch then sees only unchanged or mirrored images.</summary>
    public bool UsesFeatureCache =>
        FeatureCache != FeatureCacheMode.None && !(AugmentFrozenBranch && (ShiftFraction > 0 || ErasingProbability > 0));
}
