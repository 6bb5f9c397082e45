namespace Hffer.MLNet.Training;

/// <summary>What a training checkpoint records besides tensors: where training stood and what it trained on.</summary>
internal sealed record TrainingCheckpointInfo
{
    /// <summary>The last finished epoch; training resumes with the next one.</summary>
    public required int Epoch { get; init; }

    /// <summary>The architecture as JSON; a checkpoint only loads into the same network.</summary>
    public required string Architecture { get; init; }

    public required int ClassCount { get; init; }

    /// <summary><see cref="FrozenBranchIdentity"/> of the frozen weights, which the checkpoint does not hold.</summary>
    public required string FrozenBranch { get; init; }

    /// <summary>The frozen prior in words, for messages (null in checkpoints older than the prior seam).</summary>
    public string? FrozenPrior { get; init; }

    /// <summary><see cref="Data.ImageSet.ContentHash"/> of the training images after any validation split.</summary>
    public required string TrainingData { get; init; }

    /// <summary><see cref="Data.ImageSet.ContentHash"/> of the validation images, or null without validation.</summary>
    public string? ValidationData { get; init; }

    public required int Seed { get; init; }

    public required int BatchSize { get; init; }

    public required double LearningRate { get; init; }

    public required double LearningRateDecay { get; init; }

    public required double WeightDecay { get; init; }

    /// <summary>The best validated epoch so far and its accuracy; its weights are stored with the checkpoint.</summary>
    public int? BestEpoch { get; init; }

    public double BestAccuracy { get; init; }

    /// <summary>Metrics of every finished epoch.</summary>
    public required List<HfferEpochMetrics> History { get; init; }
}
